import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest
import torch

from engine.repl import Kernel
from engine.repl.completion import common_prefix, complete
from engine.repl.history import History
from engine.repl.kernel import Restarted, is_complete
from engine.repl.variables import details

TOPICS = {
    "from data": ("torch.tensor([[10, 20, 30], [40, 50, 60]])", "tensor([[10, 20, 30],"),
    "from numpy": ("torch.tensor(np.array([2, 3, 4])).dtype", "torch.int64"),
    "typed": ("torch.IntTensor([2.5, 3.3])", "tensor([2, 3], dtype=torch.int32)"),
    "arange": ("torch.arange(0, 10, 2)", "tensor([0, 2, 4, 6, 8])"),
    "linspace": ("torch.linspace(0, 9, 11)[1]", "tensor(0.9000)"),
    "seed": ("torch.manual_seed(100); a = torch.randn(2, 3); torch.manual_seed(100); torch.equal(a, torch.randn(2, 3))", "True"),
    "full_like": ("torch.full_like(torch.tensor([[1, 2], [3, 4]]), 20)", "tensor([[20, 20],"),
    "dtype": ("torch.full([2, 3], 10).double().dtype", "torch.float64"),
    "type": ("torch.full([2, 3], 10).type(torch.DoubleTensor).dtype", "torch.float64"),
    "shared numpy": ("t = torch.tensor([2, 3, 4]); a = t.numpy(); a[0] = 100; t", "tensor([100,   3,   4])"),
    "from_numpy": ("n = np.array([2, 3, 4]); torch.from_numpy(n)[0] = 100; n", "array([100,   3,   4])"),
    "item": ("torch.tensor([50.]).item()", "50.0"),
    "in-place": ("d = torch.tensor([[3, 7, 4], [0, 0, 6]]); d.add_(10); d", "tensor([[13, 17, 14],"),
    "hadamard": ("torch.tensor([[1, 2], [3, 4]]) * torch.tensor([[5, 6], [7, 8]])", "tensor([[ 5, 12],"),
    "matmul": ("torch.tensor([[1, 2], [3, 4], [5, 6]]) @ torch.tensor([[5, 6], [7, 8]])", "[43, 50],"),
    "reductions": ("torch.tensor([[4., 0., 7.], [6., 3., 5.]], dtype=torch.float64).mean(dim=0)", "tensor([5.0000, 1.5000, 6.0000], dtype=torch.float64)"),
    "math": ("torch.tensor([4.]).sqrt()", "tensor([2.])"),
    "bool index": ("v = torch.arange(6).reshape(2, 3); v[v > 2]", "tensor([3, 4, 5])"),
    "multi index": ("torch.arange(24).reshape(2, 3, 4)[1, :, 0]", "tensor([12, 16, 20])"),
    "list index": ("torch.arange(12).reshape(4, 3)[[0, 2], [1, 2]]", "tensor([1, 8])"),
    "range index": ("torch.arange(10)[1:8:3]", "tensor([1, 4, 7])"),
    "unsqueeze": ("torch.ones(3).unsqueeze(0).shape", "torch.Size([1, 3])"),
    "permute": ("torch.ones(2, 3, 4).permute(2, 0, 1).shape", "torch.Size([4, 2, 3])"),
    "contiguous": ("torch.ones(2, 3).t().contiguous().view(-1).shape", "torch.Size([6])"),
    "cat": ("torch.cat([torch.ones(2, 3), torch.zeros(2, 3)], dim=1).shape", "torch.Size([2, 6])"),
}


@pytest.mark.parametrize("name", list(TOPICS))
def test_topics_run(kernel, name):
    source, expected = TOPICS[name]
    result = kernel.run(source)
    assert result.ok, result.error
    assert expected in result.value


def test_view_after_transpose_explains(kernel):
    result = kernel.run("torch.ones(2, 3).t().view(-1)")
    assert result.error_type == "RuntimeError" and "contiguous" in result.error
    assert 'File "<cell' in result.error and "torch/" not in result.error


def test_summary_line_and_underscore(kernel):
    result = kernel.run("torch.tensor([1., float('nan'), 3.])")
    assert "shape (3,)" in result.summary and "float32" in result.summary and "NaN 1" in result.summary
    assert kernel.run("_.shape").value == "torch.Size([3])"


def test_print_and_stderr_kept_in_order_with_the_cell(kernel):
    result = kernel.run("import sys\nprint('one')\nsys.stderr.write('two\\n')\nprint('three')")
    assert "".join(t for _, t in result.output) == "one\ntwo\nthree\n"


def test_prints_from_other_threads_do_not_land_in_the_cell(kernel):
    stop = threading.Event()

    def chatter():
        while not stop.is_set():
            print("NOISE", file=sys.__stdout__ if False else sys.stdout)
            time.sleep(0.001)

    t = threading.Thread(target=chatter)
    t.start()
    try:
        result = kernel.run("for i in range(200): print(i)")
    finally:
        stop.set()
        t.join()
    assert "NOISE" not in result.text()


def test_completeness():
    assert not is_complete("for i in range(3):")
    assert not is_complete("x = (1,")
    assert is_complete("x = 1")
    assert is_complete("x = )")  # invalid: run it to show the error
    assert is_complete("%who")


@pytest.mark.parametrize("source,needle", [
    ("input()", "input() cannot read"),
    ("import sys; sys.stdin.readline()", "not available"),
    ("help()", "interactive pager"),
    ("breakpoint()", "refused"),
    ("import pdb; pdb.set_trace()", "refused"),
    ("exit()", "ctrl+q"),
    ("quit()", "ctrl+q"),
    ("import sys; sys.exit(1)", "SystemExit"),
    ("import os; os._exit(0)", "refused"),
    ("def f(): return f()\nf()", "RecursionError"),
    ("torch.empty(10**14)", "allocate"),
    ("torch.zeros(2, device='cuda')", "CUDA"),
    ("1/0", "ZeroDivisionError"),
    ("%bogus", "%timeit"),
])
def test_bad_input_gets_a_message_and_keeps_namespace(kernel, source, needle):
    if "cuda" in source and torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    kernel.run("keep_me = torch.arange(3)")
    result = kernel.run(source)
    assert needle in result.text() + (result.hint or "")
    assert kernel.run("keep_me.sum().item()").value == "3"


def test_help_on_an_object_prints_its_text(kernel):
    assert "Concatenates" in kernel.run("help(torch.cat)").text()


def test_escape_codes_are_removed(kernel):
    result = kernel.run("print('\\x1b[2J\\x1b[31mred\\x1b[0m\\x07')")
    assert result.text() == "red\n" and result.removed_control


def test_long_print_is_cut_with_a_note(kernel):
    result = kernel.run("print('x' * 1_000_000)")
    assert result.cut_chars > 700_000
    assert "output cut" in result.output[-1][1]


def test_huge_tensor_value_prints_fast(kernel):
    kernel.run("big = torch.zeros(10_000, 10_000)")
    start = time.perf_counter()
    result = kernel.run("big")
    assert "..." in result.value and "shape (10000, 10000)" in result.summary
    assert time.perf_counter() - start < 30  # bounded repr: not 10^8 numbers


@pytest.mark.parametrize("source", ["import time; time.sleep(30)", "while True: pass",
                                    "x = torch.ones(10)\nwhile True: x = x * 1.0"])
def test_interrupt(kernel, source):
    kernel.run("survivor = 41")
    threading.Timer(0.3, kernel.interrupt).start()
    start = time.perf_counter()
    result = kernel.run(source)
    assert result.interrupted and "KeyboardInterrupt" in result.error
    assert time.perf_counter() - start < 10
    assert kernel.run("survivor + 1").value == "42"


def test_interrupted_traceback_does_not_keep_tensors_alive(kernel):
    import weakref

    kernel.run("import weakref\ndef work():\n    local = torch.ones(1000)\n    __builtins__['_ref'] = weakref.ref(local)\n    raise ValueError('boom')")
    kernel.run("work()")
    assert kernel.run("import gc; gc.collect(); _ref() is None").value == "True"
    del weakref


def test_restart_gives_a_fresh_namespace():
    events = []
    k = Kernel(on_event=events.append)
    k.ready.wait(60)
    k.run("mine = 1")
    k.restart()
    deadline = time.time() + 10
    while not any(isinstance(e, Restarted) for e in events) and time.time() < deadline:
        time.sleep(0.02)
    assert any(isinstance(e, Restarted) for e in events)
    assert k.run("mine").error_type == "NameError"
    assert k.run("torch.ones(1)").ok
    k.shutdown()


def test_magics(kernel):
    kernel.run("w = torch.tensor(1., requires_grad=True); b = torch.tensor(3., requires_grad=True)\n"
               "loss = (5 * w + b - 0) ** 2")
    who = kernel.run("%who").text()
    assert "w " in who and "requires_grad" in who
    timeit = kernel.run("%timeit torch.ones(10) + 1").text()
    assert "per run" in timeit
    request = kernel.run("%autograd (5 * w + b) ** 2").autograd
    assert request.recording.leaf_grads["w"].item() == 80.0
    assert kernel.run("w.grad is None").value == "True"  # the user's tensors are left as they were
    assert "%autograd EXPR" in kernel.run("%autograd").text()
    assert "no grad_fn" in kernel.run("%autograd torch.ones(2).sum()").text()
    kernel.run("%reset")
    assert kernel.run("w").error_type == "NameError"
    assert "%timeit" in kernel.run("%help").text()


def test_variables_and_shared_storage(kernel):
    result = kernel.run("base = torch.arange(6.)\narr = base.numpy()\nview = base.view(2, 3)\n"
                        "tr = view.t()\ncopy = base.clone()\nnet = nn.Linear(2, 1)")
    names = {v.name: v for v in result.variables}
    assert names["base"].shape == "(6,)" and names["base"].nbytes == 24
    assert names["arr"].kind == "ndarray" and names["net"].kind == "module"
    info = details("base", kernel.namespace)
    assert set(info.shares_with) >= {"arr", "view", "tr"} and "copy" not in info.shares_with
    assert not details("tr", kernel.namespace).contiguous


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


def test_percent_autograd_gradient_check_on_user_tensors(kernel):
    from engine.autograd import gradient_check

    kernel.run("x = torch.ones(2, 5)\nw = torch.randn(5, 3, requires_grad=True)\nb = torch.zeros(3, requires_grad=True)")
    request = kernel.run("%autograd ((x @ w + b) ** 2).mean()").autograd
    assert set(request.leaves) == {"w", "b"}
    check = gradient_check(request.forward, request.leaves, request.recording.leaf_grads)
    assert check.worst < 1e-4
    named_only = kernel.run("loss = ((x @ w + b) ** 2).mean()\n%autograd loss").autograd
    assert named_only.forward is None and "recomputes" in named_only.check_note
    assert kernel.run("%autograd 5").error == "expected a tensor, got int: autograd works on tensors"
