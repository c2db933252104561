"""spark-submit entry point for `vigie generate` (same arguments as the CLI).

spark-submit jobs/generate.py --help
"""

from __future__ import annotations

import sys

from vigie.cli import main

if __name__ == "__main__":
    sys.exit(main(["generate", *sys.argv[1:]]))
