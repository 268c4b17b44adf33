"""argparse's own messages (a bad choice, an unknown option, a missing value) are said in the
reader's language: tui.cli routes argparse's gettext lookups through the catalog while parsing."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from tests.test_i18n_literals import prose_words

BAD = [
    ["--screen", "nope"],  # invalid choice
    ["--bogus"],  # unrecognized arguments
    ["grad", "--nope"],
    ["--screen"],  # expected one argument
    ["train", "--epochs"],
    ["train", "--lr", "x"],  # an invalid value
]


def _prose(line: str, args: list[str]) -> list[str]:
    """The English words of `line` that are not the learner's own arguments, nor option names."""
    for arg in args:
        line = line.replace(arg, " ")
    return [word for word in prose_words(line) if word not in ("nope", "bogus", "playground", "autograd", "learn", "model", "gpu")]


@pytest.mark.parametrize("args", BAD, ids=" ".join)
def test_argparse_errors_are_one_chinese_line_in_zh(args, capsys):
    from tui import cli

    assert cli.main(["--lang", "zh", *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert not _prose(err, args), err
    assert argparse._("expected one argument") == "expected one argument"  # put back after parsing


@pytest.mark.parametrize("args", BAD, ids=" ".join)
def test_argparse_errors_stay_argparses_own_in_english(args, capsys):
    from tui import cli

    assert cli.main(["--lang", "en", *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "error: " in err, err
    assert any(words in err for words in ("invalid choice", "unrecognized arguments", "expected one argument",
                                          "expected a number")), err


def test_the_catalogs_argparse_words_are_this_pythons_messages():
    """The en catalog's `argparse.*` words are argparse's msgids: the lookup goes by them. (A
    Python whose argparse words one differently shows that one in English.)"""
    import inspect

    from engine.i18n import catalog

    source = inspect.getsource(argparse)
    found = [key for key, words in catalog("en").items() if key.startswith("argparse.") and repr(words) in source]
    assert {"argparse.invalid_choice", "argparse.unrecognized", "argparse.expected_one_argument", "argparse.argument",
            "argparse.required"} <= set(found), found
    assert set(catalog("zh")) >= {key for key in catalog("en") if key.startswith("argparse.")}


@pytest.mark.slow
def test_a_bad_task_in_zh_is_one_chinese_line_and_exit_2():
    out = subprocess.run([sys.executable, "-m", "tui", "--lang", "zh", "train", "--task", "nope"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and any("\u4e00" <= c <= "\u9fff" for c in lines[0]), out.stderr
    assert not _prose(lines[0], ["nope", "regression", "moons", "task"]), lines[0]
