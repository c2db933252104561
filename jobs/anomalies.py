"""spark-submit entry point for `vigie anomalies` (same arguments as the CLI).

spark-submit jobs/anomalies.py --help
"""

from __future__ import annotations

import sys

from vigie.cli import main

if __name__ == "__main__":
    sys.exit(main(["anomalies", *sys.argv[1:]]))
