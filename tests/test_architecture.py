"""The architecture of STYLE.md, kept by import-linter.

The contracts live in ``[tool.importlinter]`` of pyproject.toml; ``lint-imports``
checks them from the repository root. Each test below names one contract, so a
failure says which rule was broken and prints import-linter's explanation.
"""

import subprocess
import sys
import tomllib
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]

CONTRACTS = (
    "no-keras-in-preprocessing",
    "no-sklearn-in-keras-side",
    "estimators-one-way-down",
    "no-cycles",
)


def _contract_names():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    return {contract["id"]: contract["name"] for contract in config["contracts"]}


@pytest.fixture(scope="module")
def lint_imports():
    executable = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run(
        [str(executable), "--no-cache", "--no-logo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return done.returncode, done.stdout + done.stderr


def _cycles(package="skrank"):
    """One line per import that closes a cycle between siblings, with the way back."""
    graph = grimp.build_graph(package)
    found = []
    for parent in sorted(m for m in graph.modules if graph.find_children(m)):
        depth = parent.count(".") + 2

        def child(module, depth=depth):
            return ".".join(module.split(".")[:depth])

        for importer, imported in sorted(graph.nominate_cycle_breakers(parent)):
            back = graph.find_shortest_chain(child(imported), child(importer), as_packages=True)
            back = " -> ".join(back) if back else "?"
            found.append(f"{importer} -> {imported}, and back: {back}")
    return found


def test_every_contract_is_declared():
    assert set(CONTRACTS) <= set(_contract_names()), _contract_names()


@pytest.mark.parametrize("contract", CONTRACTS)
def test_contract_is_kept(contract, lint_imports):
    _, output = lint_imports
    name = _contract_names()[contract]
    lines = [line.strip() for line in output.splitlines()]
    message = output
    if contract == "no-cycles" and f"{name} KEPT" not in lines:
        message += "\nCycles found by grimp:\n" + "\n".join(_cycles())
    assert f"{name} KEPT" in lines, message


def test_lint_imports_passes(lint_imports):
    returncode, output = lint_imports
    assert returncode == 0, output
