"""Locations that may be URIs: a lakehouse or table on dbfs:, abfss://, s3a:// or file://, or a local path.

Nothing here imports Spark or Delta, so the CLI and the ingest reader can check a path cheaply.

Example:
    >>> is_uri("dbfs:/lake"), is_uri("s3a://bucket/lake"), is_uri("/data/lake")
    (True, True, False)
"""

from __future__ import annotations


def is_uri(path: str) -> bool:
    """True for a filesystem URI (dbfs:, abfss://, s3a://, file://), False for a plain local path."""
    return "://" in path or path.startswith("dbfs:")
