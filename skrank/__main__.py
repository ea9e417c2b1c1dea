"""``python -m skrank``: the command-line interface (see ``python -m skrank --help``)."""

import sys

from skrank._cli import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
