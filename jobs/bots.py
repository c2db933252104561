"""spark-submit entry point for `vigie bots` (same arguments as the CLI).

spark-submit jobs/bots.py --help
"""

from __future__ import annotations

import sys

from vigie.cli import main

if __name__ == "__main__":
    sys.exit(main(["bots", *sys.argv[1:]]))
