"""tui/save.py: a Playground session as a script that plain Python runs."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tui.save import SessionCell, script_text


def run_script(tmp_path, cells: list[SessionCell], *flags: str) -> subprocess.CompletedProcess:
    script = tmp_path / "session.py"
    script.write_text(script_text(cells), encoding="utf-8")
    return subprocess.run([sys.executable, *flags, str(script)], capture_output=True, text=True, timeout=120,
                          cwd=tmp_path)


@pytest.mark.slow  # a Python process
def test_a_saved_script_that_calls_live_runs_in_plain_python_and_keeps_the_numbers(tmp_path):
    csv = tmp_path / "run.csv"
    cells = [SessionCell(1, "import torch"),
             SessionCell(2, "for i in range(3):\n    live(loss=torch.tensor(float(i)))"),
             SessionCell(3, f"print(live.export({str(csv)!r}))")]
    done = run_script(tmp_path, cells)
    assert done.returncode == 0, done.stderr
    assert csv.read_text().splitlines() == ["step,loss", "1,0.0", "2,1.0", "3,2.0"]


@pytest.mark.slow  # a Python process
def test_a_saved_script_that_calls_live_runs_where_torchtui_is_not_installed(tmp_path):
    cells = [SessionCell(1, "total = 0"), SessionCell(2, "for i in range(3):\n    live(loss=i)\n    total += i"),
             SessionCell(3, "print('total', total)")]
    done = run_script(tmp_path, cells, "-S")  # no site-packages: no torchtui, no torch
    assert done.returncode == 0, done.stderr
    assert done.stdout == "total 3\n"


def test_a_script_without_live_has_no_prelude_and_magics_stay_comments():
    text = script_text([SessionCell(1, "x = 1"), SessionCell(2, "%timeit x + 1"), SessionCell(3, "live_ones = 2")])
    assert "live(" not in text and "NameError" not in text
    assert "# %timeit x + 1" in text
    compile(text, "session.py", "exec")
