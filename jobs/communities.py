"""spark-submit entry point for `vigie communities` (same arguments as the CLI).

spark-submit jobs/communities.py --help
"""

from __future__ import annotations

import sys

from vigie.cli import main

if __name__ == "__main__":
    sys.exit(main(["communities", *sys.argv[1:]]))
