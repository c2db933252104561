"""spark-submit entry point for `vigie ingest` (same arguments as the CLI).

spark-submit jobs/ingest.py --help
"""

from __future__ import annotations

import sys

from vigie.cli import main

if __name__ == "__main__":
    sys.exit(main(["ingest", *sys.argv[1:]]))
