"""The ``python -m skrank`` command line: ``demo``, ``fit`` and ``predict``.

Every command is importable and callable in-process through :func:`main`, which
returns the exit code instead of exiting: 0 on success, 2 on a usage error or a
mistake in the user's files (one line on stderr naming the file or column, no
traceback).
"""

from __future__ import annotations

import argparse
import os
import sys

from skrank._version import __version__

DESCRIPTION = """\
skrank: deep ranking models (DLRM, DCN-v2) for click-through-rate and rating
prediction, as scikit-learn estimators on Keras 3.

Run 'python -m skrank COMMAND --help' for the options of a command."""


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Keep the hand-wrapped descriptions and examples; wrap option help normally."""

    def __init__(self, prog):
        super().__init__(prog, max_help_position=30, width=100)


def build_parser() -> argparse.ArgumentParser:
    from skrank._cli import _demo, _fit_predict

    parser = argparse.ArgumentParser(
        prog="python -m skrank",
        description=DESCRIPTION,
        formatter_class=_Formatter,
    )
    parser.add_argument("--version", action="version", version=f"skrank {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    _demo.add_parser(subparsers, _Formatter)
    _fit_predict.add_fit_parser(subparsers, _Formatter)
    _fit_predict.add_predict_parser(subparsers, _Formatter)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); return the exit code."""
    # OpenMP threads that spin while waiting (libgomp's default) slow scikit-learn's
    # HistGradientBoosting tens of times on a busy machine, next to TensorFlow's own
    # threads. Only effective before the OpenMP runtime loads, as in `python -m skrank`.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    from skrank._cli._common import CLIError, quiet

    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, usage errors
        return int(exc.code or 0) if not isinstance(exc.code, str) else 2
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    verbose = bool(getattr(args, "verbose", False))
    try:
        with quiet(verbose):
            return int(args.run(args) or 0)
    except CLIError as exc:
        print(f"skrank {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader of stdout went away (`... | head`): stop quietly, as Python's docs
        # advise, without a second error when the interpreter flushes stdout at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:
        print(f"skrank {args.command}: interrupted", file=sys.stderr)
        return 130
