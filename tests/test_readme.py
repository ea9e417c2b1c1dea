"""README's two commands are the ones CI and users run."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _bash_blocks(text):
    return [b.strip() for b in re.findall(r"```bash\n(.*?)```", text, flags=re.S)]


def test_readme_first_screen_has_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    first_screen = "\n".join(readme.splitlines()[:30])
    blocks = _bash_blocks(first_screen)
    assert blocks[:2] == [
        'pip install -e ".[datasets]" && python -m skrank demo',
        'pip install -e ".[test]" && pytest -n 2',
    ]


def test_ci_runs_readmes_test_command():
    test_command = _bash_blocks((ROOT / "README.md").read_text())[1]
    ci = (ROOT / ".ci" / "run").read_text()
    assert test_command in ci.splitlines()
    assert "venv" in ci
