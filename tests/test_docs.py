"""Build the Sphinx documentation, without running the gallery examples.

The build uses ``-W`` (warnings are errors) on a copy of ``docs/`` and
``examples/`` in a temporary folder, so it neither writes generated files into
the checkout nor races with a build of the real tree. ``-D plot_gallery=0``
renders the gallery pages without executing the examples (tests/test_examples.py
runs them).
"""

import importlib
import pkgutil
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
EXAMPLES = ROOT / "examples"

# Every public subpackage whose __all__ the API reference must cover.
PUBLIC_MODULES = [
    "skrank",
    "skrank.models",
    "skrank.layers",
    "skrank.tasks",
    "skrank.metrics",
    "skrank.optimizers",
    "skrank.datasets",
    "skrank.preprocessing",
    "skrank.data",
]
# Subpackages that are deliberately not in the API reference: the estimators are
# documented under ``skrank``, the benchmarks are a command (``python -m``).
NOT_IN_API = {"skrank.estimators", "skrank.benchmarks"}


def _documented_names():
    """``module.name`` of every entry of the autosummary lists in api.rst."""
    names, module = set(), None
    in_autosummary = False
    for line in (DOCS / "api.rst").read_text(encoding="utf-8").splitlines():
        current = re.match(r"\.\. currentmodule:: (\S+)", line)
        if current:
            module = current.group(1)
        if line.startswith(".. autosummary::"):
            in_autosummary = True
            continue
        if in_autosummary:
            stripped = line.strip()
            if line and not line.startswith(" "):
                in_autosummary = False
            elif stripped and not stripped.startswith(":"):
                names.add(f"{module}.{stripped}")
    return names


def test_api_reference_lists_every_public_name():
    documented = _documented_names()
    # The same class is exported under two names; the reference documents it once.
    aliases = {"skrank.preprocessing.RankingPreprocessor": "skrank.RankingPreprocessor"}
    missing = []
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            if name.startswith("__"):
                continue
            full = f"{module_name}.{name}"
            if aliases.get(full, full) not in documented:
                missing.append(full)
    assert not missing, f"docs/api.rst does not list {missing}"


def test_every_public_subpackage_is_documented():
    import skrank

    subpackages = {
        f"skrank.{info.name}"
        for info in pkgutil.iter_modules(skrank.__path__)
        if info.ispkg and not info.name.startswith("_")
    }
    undocumented = sorted(subpackages - set(PUBLIC_MODULES) - NOT_IN_API)
    assert not undocumented, (
        f"add {undocumented} to docs/api.rst and PUBLIC_MODULES (or to NOT_IN_API)"
    )


def test_docs_build_without_warnings(tmp_path):
    pytest.importorskip("sphinx", reason="building the docs needs the 'docs' extra (sphinx)")
    for extension in ("numpydoc", "sphinx_gallery", "pydata_sphinx_theme"):
        pytest.importorskip(
            extension, reason=f"building the docs needs the 'docs' extra ({extension})"
        )

    ignore = shutil.ignore_patterns(
        "_build", "auto_examples", "gen_modules", "sg_execution_times.rst", "__pycache__"
    )
    shutil.copytree(DOCS, tmp_path / "docs", ignore=ignore)
    shutil.copytree(EXAMPLES, tmp_path / "examples", ignore=ignore)
    out = tmp_path / "html"
    command = [
        sys.executable, "-m", "sphinx",
        "-W", "--keep-going", "-q",
        "-b", "html",
        "-D", "plot_gallery=0",
        "-d", str(tmp_path / "doctrees"),
        str(tmp_path / "docs"), str(out),
    ]  # fmt: skip
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL
    )
    problems = [line for line in result.stderr.splitlines() if "WARNING" in line or "ERROR" in line]
    assert result.returncode == 0, "sphinx-build -W failed:\n" + "\n".join(
        problems or [result.stdout[-3000:], result.stderr[-3000:]]
    )

    for page in [
        "index.html",
        "getting_started.html",
        "user_guide/model.html",
        "faq.html",
        "api.html",
        "auto_examples/index.html",
        "gen_modules/skrank.RankingClassifier.html",
        "gen_modules/skrank.models.Ranking.html",
        "gen_modules/skrank.datasets.make_ctr_classification.html",
    ]:
        assert (out / page).is_file(), f"{page} was not built"
    for example in sorted(EXAMPLES.glob("plot_*.py")):
        assert (out / "auto_examples" / f"{example.stem}.html").is_file(), (
            f"no gallery page for {example.name}"
        )
