"""The torchtui command: bad input is one line on stderr and exit 2; the headless commands.

Most tests call the command's `main` in this process, as the `torchtui` script does (its stdout
and stderr captured); the tests marked slow run the command itself, for what only a process
shows: its exit status and the streams as a shell sees them."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
from dataclasses import dataclass

import pytest
import torch


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


def cli(*args: str) -> Ran:
    """`torchtui ARGS` run by its `main` here; an exception from it fails the test (a process
    would have printed a traceback)."""
    from tui import cli as command

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = command.main(list(args))
    return Ran(code, out.getvalue(), err.getvalue())


def command(*args: str) -> subprocess.CompletedProcess:
    """`torchtui ARGS` as a process."""
    return subprocess.run([sys.executable, "-m", "tui", *args], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("args,needle", [
    (["--device", "gpu"], "unknown device 'gpu'"),
    (["--device", "cuda:7"], "available: cpu"),
    (["--screen", "nope"], "invalid choice"),
    (["--bogus"], "unrecognized arguments"),
    (["grad", "--example", "nope"], "examples: scalar, matrix, mlp, accumulate, detach"),
])
def test_cli_bad_input_is_one_line_and_exit_2(args, needle):

    if "cuda" in " ".join(args) and torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    out = cli(*args)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0] and "Traceback" not in out.stderr


@pytest.mark.slow  # the command itself
@pytest.mark.parametrize("args,needle", [(["--device", "gpu"], "unknown device 'gpu'"),
                                         (["--bogus"], "unrecognized arguments")])
def test_the_command_itself_says_bad_input_in_one_line_on_stderr_and_exits_2(args, needle):
    out = command(*args)
    assert out.returncode == 2 and out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0] and "Traceback" not in out.stderr


@pytest.mark.slow  # the command itself
def test_cli_version():
    out = command("--version")
    assert out.returncode == 0
    assert out.stdout.startswith("torchtui ") and "torch 2." in out.stdout and "CUDA available:" in out.stdout


def test_grad_cli_prints_the_walk():
    out = cli("grad", "--example", "scalar")
    assert out.returncode == 0
    assert "  w: tensor(80.)" in out.stdout and "  b: tensor(16.)" in out.stdout
    assert "16 × 5 = 80" in out.stdout


def test_grad_cli_explains_the_detach_difference():
    done = cli("grad", "--example", "detach")
    assert done.returncode == 0, done.stderr
    assert "DIFFERS" in done.stdout and "exactly the hidden paths" in done.stdout
    done = cli("grad", "--example", "scalar")
    assert "All gradients agree" in done.stdout and "→ ok" in done.stdout


def test_corrupt_config_gives_warning_not_crash(tmp_path, monkeypatch):
    cfg_dir = tmp_path / "config" / "torchtui"
    cfg_dir.mkdir(parents=True)
    (cfg_dir / "config.toml").write_text("this is = = not toml")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    for args in (["grad"], ["--lang", "zh", "grad"], ["train", "--headless", "--epochs", "1", "--samples", "50"]):
        out = cli(*args)
        assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr
        prefix = "torchtui：警告：" if "zh" in args else "torchtui: warning: "  # (cli.warning, in each language)
        warnings = [line for line in out.stderr.splitlines() if line.startswith(prefix)]
        assert len(warnings) == 1 and "config.toml" in warnings[0], out.stderr  # said once, on stderr
        assert ("TOML" in warnings[0]) and (("不是" in warnings[0]) == ("zh" in args)), warnings[0]


def test_headless_cli_json_and_exit_codes():
    out = cli("train", "--headless", "--epochs", "10", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)  # stdout is the JSON object alone: `| jq .` and json.load read it
    # what a person reads goes to stderr
    assert out.stderr.startswith("Epoch [1/10], Loss: ") and "Epoch [10/10]" in out.stderr, out.stderr
    assert "learned  weight" in out.stderr and "samples/s" in out.stderr
    assert set(data) == {"task", "final_loss", "weight", "bias", "true_weight", "true_bias", "optimal_weight",
                         "optimal_bias", "optimal_loss", "epochs", "steps", "seconds", "samples_per_s", "device"}
    bad = cli("train", "--headless", "--lr", "-1")
    assert bad.returncode == 2 and "lr" in bad.stderr and "Traceback" not in bad.stderr
    boom = cli("train", "--headless", "--lr", "5", "--epochs", "30")
    assert boom.returncode == 3 and "diverged" in boom.stderr


@pytest.mark.parametrize("args,needle", [
    (["--data-seed", "-1"], "between 0 and 4294967295"),
    (["--data-seed", "4294967296"], "between 0 and 4294967295"),
    (["--seed", str(2**64)], "2**63 - 1"),
    (["--lr", "1e308"], "at most 1e+06"),
    (["--export-script", ""], "needs a file path"),
    (["--bias", "-inf"], "expected a finite number between -1e+06 and 1e+06, got '-inf'"),
])
def test_every_bad_training_value_is_one_line_and_exit_2(args, needle, capsys):
    from tui import cli

    assert cli.main(["train", "--headless", "--epochs", "2", *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and needle in err, err


def test_negative_values_are_read_as_users_type_them_and_json_has_the_optimum(capsys):
    import json

    from tui import cli

    assert cli.glue_negative_values(["train", "--bias", "-2.5", "--noise", "3"]) == \
        ["train", "--bias=-2.5", "--noise", "3"]
    assert cli.main(["train", "--headless", "--epochs", "2", "--bias", "-2.5", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["true_bias"] == -2.5
    assert len(result["optimal_weight"]) == 1 and isinstance(result["optimal_bias"], float)


def test_train_json_is_alone_on_stdout_with_the_moons_and_a_script(tmp_path):
    script = tmp_path / "moons.py"
    out = cli("train", "--headless", "--task", "moons", "--epochs", "5", "--json", "--export-script", str(script))
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["task"] == "moons" and data["epochs"] == 5
    assert "accuracy" in out.stderr and f"script written to {script}" in out.stderr and script.exists()
    plain = cli("train", "--headless", "--epochs", "2")
    assert plain.returncode == 0 and plain.stdout.startswith("Epoch [1/2]")  # without --json: stdout as before


NUMERIC_OPTIONS = ["--hidden", "--nproc", "--samples", "--features", "--noise", "--bias", "--data-seed",
                   "--batch-size", "--epochs", "--lr", "--seed"]
FLOAT_OPTIONS = {"--noise", "--bias", "--lr"}
ZERO_ALLOWED = {"--noise", "--bias", "--data-seed", "--seed"}


def hostile_values(flag: str) -> list[str]:
    values = ["9" * 23, "-" + "9" * 23, "1" + "0" * 5000, "12abc", "", "ten", "0x10"]
    if flag not in ZERO_ALLOWED:
        values.append("0")
    if flag in FLOAT_OPTIONS:
        values += ["nan", "inf", "-inf", "1e400"]
    else:
        values += ["-1" if flag not in ("--bias",) else "-1e7", "2.5", "1e3"]
    return values


@pytest.mark.parametrize("flag", NUMERIC_OPTIONS)
def test_every_numeric_option_has_a_range_and_out_of_it_is_one_line_and_exit_2(flag, capsys):
    from tui import cli

    for value in hostile_values(flag):
        assert cli.main(["train", "--headless", f"{flag}={value}"]) == 2, (flag, value)
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith(f"torchtui train: error: argument {flag}: "), (value, err)
        assert (" between " in err or " at most " in err) and "Traceback" not in err, err  # it names the range
        assert len(err) < 300, err  # a 5,000-digit value is not echoed whole


def test_range_errors_are_said_in_the_readers_language(capsys):
    from tui import cli

    assert cli.main(["--lang", "zh", "train", "--headless", "--epochs", "9" * 30]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "之间" in err, err


def test_values_inside_the_ranges_are_taken():
    from tui import cli

    args = cli.build_parser().parse_args(
        ["train", "--epochs", "100000", "--batch-size", "1", "--lr", "1e6", "--bias=-1e6", "--noise", "0",
         "--seed", str(2**63 - 1), "--data-seed", "0", "--hidden", "4096", "--nproc", "64"])
    assert (args.cfg_epochs, args.cfg_batch_size, args.cfg_lr, args.cfg_bias) == (100000, 1, 1e6, -1e6)
    assert args.cfg_seed == 2**63 - 1 and args.cfg_hidden == 4096 and args.cfg_processes == 64


def test_no_numeric_option_is_left_without_a_range():
    """Every option of every command whose value is a number is checked against a range (a new
    option cannot slip in unchecked)."""
    import argparse

    from engine.headless.train import FLAGS
    from engine.training import FIELD_TYPES
    from tui import cli

    numeric = sorted(flag for flag, name in FLAGS.items() if FIELD_TYPES[name] in ("int", "float"))
    assert numeric == sorted(NUMERIC_OPTIONS)
    parser = cli.build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for command in (parser, *subparsers.choices.values()):
        for action in command._actions:
            if any(flag in NUMERIC_OPTIONS for flag in action.option_strings):
                assert getattr(action.type, "range", None) is not None, action.option_strings
