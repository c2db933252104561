"""vigie: anomalies, bots, communities and audiences in very large social-media dumps, on Spark."""

from __future__ import annotations

__version__ = "0.1.0"
