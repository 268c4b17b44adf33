"""The REPL's pieces that need no kernel: completeness, safe completion, durable history."""

import os
import signal
import subprocess
import sys
import textwrap

import torch

from engine.repl.complete_input import is_complete
from engine.repl.completion import common_prefix, complete
from engine.repl.history import History


def test_completeness():
    assert not is_complete("for i in range(3):")
    assert not is_complete("x = (1,")
    assert is_complete("x = 1")
    assert is_complete("x = )")  # invalid: run it to show the error
    assert is_complete("%who")


def test_completion_never_runs_properties():
    class Trap:
        @property
        def boom(self):
            raise AssertionError("completion ran a property")

    ns = {"torch": torch, "np": __import__("numpy"), "x": torch.ones(2), "trap": Trap()}
    assert "zeros" in complete("torch.ze", ns)[1]
    assert "array" in complete("np.ar", ns)[1]
    assert "sum" in complete("x.", ns)[1]
    assert complete("trap.boom.", ns)[1] == []
    assert complete("y = torch.ze", ns) == (len("y = torch."), ["zero_", "zeros", "zeros_like"])
    assert common_prefix(["zeros", "zeros_like"]) == "zeros"


def test_completion_walks_module_tables_without_getattr():
    lin = torch.nn.Linear(2, 2)
    model = torch.nn.Sequential()
    model.add_module("fc", lin)
    ns = {"model": model, "lin": lin}
    assert "weight" in complete("model.fc.we", ns)[1]
    assert "grad" in complete("lin.weight.gr", ns)[1]


def test_history_survives_kill(tmp_path):
    path = tmp_path / "history"
    script = textwrap.dedent(f"""
        import os, time
        from engine.repl.history import History
        h = History({str(path)!r})
        h.append("a = 1")
        h.append("for i in range(3):\\n    print(i)")
        print("written", flush=True)
        time.sleep(60)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "written"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    h = History(path)
    assert h.entries == ["a = 1", "for i in range(3):\n    print(i)"]
    assert os.stat(path).st_mode & 0o777 == 0o600


def test_history_heals_torn_line_and_sets_corrupt_file_aside(tmp_path):
    path = tmp_path / "history"
    path.write_bytes(b'{"t": 1, "src": "ok = 1"}\n{"t": 2, "src": "tor')
    h = History(path)
    assert h.entries == ["ok = 1"] and h.warning is None
    h.append("next = 2")
    assert History(path).entries == ["ok = 1", "next = 2"]
    path.write_bytes(b"\x00\xff garbage\nmore garbage\n")
    h = History(path)
    assert h.entries == [] and "set aside" in h.warning
    assert list(tmp_path.glob("history.corrupt-*"))


def test_history_is_bounded(tmp_path):
    h = History(tmp_path / "history", max_entries=10)
    for i in range(30):
        h.append(f"x = {i}")
    again = History(tmp_path / "history", max_entries=10)
    assert len(again.entries) <= 12 and again.entries[-1] == "x = 29"
    assert h.search("x = 2")[0] == "x = 29"


def test_signatures_without_running_anything():
    from engine.repl.completion import signature

    class Trap:
        @property
        def boom(self):
            raise AssertionError("a property ran")

    lin = torch.nn.Linear(2, 2)
    ns = {"torch": torch, "lin": lin, "trap": Trap()}
    assert signature("torch.cat", ns) == "torch.cat(tensors, dim=0, *, out=None) -> Tensor"
    assert signature("lin.forward", ns) == "lin.forward(input: torch.Tensor) -> torch.Tensor"
    assert signature("torch.nn.Linear", ns).startswith("torch.nn.Linear(in_features: int, out_features: int")
    assert signature("trap.boom", ns) is None and signature("lin.weight", ns) is None
