"""Errors a user can cause. The CLI prints their message alone (no stack trace) and exits with code 2."""

from __future__ import annotations


class VigieError(Exception):
    """A problem the user can fix; the message names the thing and what to do."""


class InputError(VigieError, ValueError):
    """A missing, unreadable or unusable input path."""


class ConfigError(VigieError, ValueError):
    """A bad option or configuration value."""
