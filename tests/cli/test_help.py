"""--help at every level explains every option."""

import argparse
import subprocess
import sys

import pytest

from skrank._cli import build_parser, main


def _subcommands():
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return action.choices


def test_python_dash_m_help_lists_the_commands():
    result = subprocess.run(
        [sys.executable, "-m", "skrank", "--help"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0
    for command in ("demo", "fit", "predict"):
        assert command in result.stdout
    assert result.stderr == ""


def test_no_command_prints_help_and_exits_2(capsys):
    assert main([]) == 2
    assert "COMMAND --help" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["demo", "fit", "predict"])
def test_command_help_explains_every_option(command, capsys):
    assert main([command, "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    subparser = _subcommands()[command]
    for action in subparser._actions:
        assert action.help, f"{command}: {action.dest} has no help"
        for option in action.option_strings:
            assert option in text, f"{command} --help does not mention {option}"
        if not action.option_strings:  # positional
            assert action.dest in text
    assert subparser.description.split()[0] in text


def test_help_strings_are_not_placeholders():
    for command, subparser in _subcommands().items():
        for action in subparser._actions:
            assert len(action.help) >= 15, f"{command} {action.dest}: {action.help!r}"


def test_version(capsys):
    from skrank import __version__

    assert main(["--version"]) == 0
    assert __version__ in capsys.readouterr().out


def test_usage_error_exits_2(capsys):
    assert main(["fit", "data.csv"]) == 2  # --target is required
    assert "--target" in capsys.readouterr().err
