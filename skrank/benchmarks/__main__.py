"""Entry point of ``python -m skrank.benchmarks``; see ``--help``."""

import sys

from skrank.benchmarks._cli import main

sys.exit(main())
