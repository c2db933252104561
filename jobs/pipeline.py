"""spark-submit entry point for `vigie pipeline` (same arguments as the CLI).

spark-submit jobs/pipeline.py --help
"""

from __future__ import annotations

import sys

from vigie.cli import main

if __name__ == "__main__":
    sys.exit(main(["pipeline", *sys.argv[1:]]))
