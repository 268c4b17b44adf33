"""The kernel as the app runs it: cells, values, errors, magics, completion, requests, interrupt,
restart and death, each through the real protocol (tui.kernel.session + engine.kernel)."""

import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

from engine.protocol import (
    AutogradShown,
    CheckGradients,
    DescribeVariable,
    GradExample,
    GradValues,
    Request,
    Signature,
    TrainFinished,
    TrainStart,
    Variables,
)
from tui.kernel import events as ev

pytestmark = pytest.mark.slow  # a kernel process

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
    assert result.ok, result.error_text
    assert expected in result.value


def test_view_after_transpose_explains(kernel):
    result = kernel.run("torch.ones(2, 3).t().view(-1)")
    assert result.error.ename == "RuntimeError" and "contiguous" in result.error_text
    assert "Cell In[" in result.error_text


def test_summary_line_and_underscore(kernel):
    result = kernel.run("torch.tensor([1., float('nan'), 3.])")
    assert "shape (3,)" in result.summary and "float32" in result.summary and "NaN 1" in result.summary
    assert kernel.run("_.shape").value == "torch.Size([3])"


@pytest.mark.parametrize("source,summary", [
    ("torch.empty(2, 3, device='meta')", "shape (2, 3) · float32 · meta"),
    ("torch.eye(3).to_sparse()", "shape (3, 3) · float32 · cpu · sparse_coo"),
    ("torch.eye(3).to_sparse_csr()", "shape (3, 3) · float32 · cpu · sparse_csr"),
    ("torch.nested.nested_tensor([torch.ones(2), torch.ones(3)])", "nested tensor of 2 tensors · float32"),
    ("torch.ones(3).to(torch.float8_e4m3fn)", "shape (3,) · float8_e4m3fn · cpu · min 1 max 1"),
    ("torch.tensor([1+2j, 3-1j])", "shape (2,) · complex64 · cpu"),
])
def test_odd_tensors_are_values_with_a_summary(kernel, source, summary):
    result = kernel.run(source)
    assert result.ok, (source, result.error_text)
    assert result.value and summary in result.summary, result.summary


def test_print_stderr_threads_and_os_system_reach_the_cell(kernel):
    result = kernel.run("import sys, os, threading\nprint('one')\nsys.stderr.write('two\\n')\n"
                        "t = threading.Thread(target=lambda: print('from a thread')); t.start(); t.join()\n"
                        "os.system('echo from a shell')")
    assert "one\n" in result.output and "two\n" in result.output
    assert "from a thread" in result.output and "from a shell" in result.output


def test_dataloader_workers_and_a_process(kernel):
    source = ("from torch.utils.data import DataLoader, TensorDataset\n"
              "ds = TensorDataset(torch.arange(64.).reshape(32, 2))\n"
              "total = sum(b[0].sum().item() for b in DataLoader(ds, batch_size=8, num_workers=2))\n"
              "import multiprocessing as mp\n"
              "p = mp.Process(target=print, args=('child',)); p.start(); p.join(); p.exitcode, total")
    start = time.perf_counter()
    result = kernel.run(source, timeout=60)
    assert result.ok, result.error_text
    assert result.value == "(0, 2016.0)"
    assert time.perf_counter() - start < 30


@pytest.mark.parametrize("source,needle", [
    ("help()", "interactive pager"),
    ("exit()", "ctrl+q"),
    ("quit()", "ctrl+q"),
    ("import sys; sys.exit(2)", "SystemExit: 2"),
    ("raise SystemExit", "SystemExit"),
    ("def f(): return f()\nf()", "RecursionError"),
    ("torch.empty(10**14)", "allocate"),
    ("torch.zeros(2, device='cuda')", "CUDA"),
    ("1/0", "ZeroDivisionError"),
    ("%bogus", "not found"),
])
def test_bad_input_gets_a_message_and_keeps_namespace(kernel, source, needle):
    if "cuda" in source and torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    kernel.run("keep_me = torch.arange(3)")
    result = kernel.run(source)
    assert needle in result.text()
    assert kernel.run("keep_me.sum().item()").value == "3"


def test_help_and_docs(kernel):
    assert "Concatenates" in kernel.run("help(torch.cat)").text()
    assert "Concatenates" in kernel.run("torch.cat?").pages
    assert "def f" in kernel.run("def f(a):\n    return a\n").text() + kernel.run("f??").pages


@pytest.mark.parametrize("request_source", ["torch.ones", "'keywords'", "'for'"])
def test_help_reads_as_in_plain_python(kernel, request_source):
    """help(obj) and help('keywords') print what plain Python prints: its header, no bold by
    backspacing, and the topics and keywords pydoc.Helper knows."""
    plain = subprocess.run([sys.executable, "-c", f"import torch\nhelp({request_source})"], capture_output=True,
                           text=True, timeout=120)
    assert plain.returncode == 0, plain.stderr
    result = kernel.run(f"help({request_source})")
    assert result.ok, result.error_text
    assert result.output == plain.stdout


def test_ipython_magics_work(kernel):
    assert "Wall time" in kernel.run("%time torch.ones(3).sum()").output
    assert kernel.run("%history -l 1").ok


def test_huge_tensor_value_prints_fast(kernel):
    kernel.run("big = torch.zeros(10_000, 10_000)")
    result = kernel.run("big")
    assert "..." in result.value and "shape (10000, 10000)" in result.summary
    kernel.run("del big")


@pytest.mark.parametrize("source", ["import time; time.sleep(30)", "while True: pass",
                                    "x = torch.ones(10)\nwhile True: x = x * 1.0"])
def test_interrupt(kernel, source):
    kernel.run("survivor = 41")
    threading.Timer(0.5, kernel.interrupt).start()
    start = time.perf_counter()
    result = kernel.run(source)
    assert result.error.ename == "KeyboardInterrupt"
    assert time.perf_counter() - start < 10
    assert kernel.run("survivor + 1").value == "42"


def test_magics(kernel):
    kernel.run("w = torch.tensor(1., requires_grad=True); b = torch.tensor(3., requires_grad=True)\n"
               "loss = (5 * w + b - 0) ** 2")
    who = kernel.run("%who").text()
    assert "w " in who and "requires_grad" in who and "torch" not in who
    assert "per loop" in kernel.run("%timeit torch.ones(10) + 1").text()
    news, record = kernel.news_after("%autograd (5 * w + b) ** 2", AutogradShown)
    assert "opening the Autograd inspector" in record.output
    steps = news.inspection.recording.steps
    assert [s.grad_after.scalar for s in steps if s.grad_after is not None and s.grad_after.scalar == 80.0]
    assert kernel.run("w.grad is None").value == "True"  # the user's tensors are left as they were
    assert "%autograd EXPR" in kernel.run("%autograd").text()
    assert "no grad_fn" in kernel.run("%autograd torch.ones(2).sum()").text()
    refused = kernel.run("%autograd not_defined * 2")  # one sentence, not a traceback of the magic
    assert "could not be computed: NameError" in refused.text() and "Traceback" not in refused.text()
    kernel.run("%reset")
    assert kernel.run("w").error.ename == "NameError"
    assert kernel.run("torch.ones(1)").ok
    assert all(name in kernel.run("%help").text() for name in ("%timeit", "%model", "%train"))


def test_timeit_takes_ipythons_options_and_synchronises_each_run(kernel):
    """%timeit and %%timeit take IPython's options (-n loops, -r runs, -q, -o, -p) and read the
    clock after synchronising the GPU (here a stand-in that counts, as the machine has none)."""
    kernel.run("x = torch.ones(8, 8)\nimport engine.kernel.magics as timing\nsyncs = []\n"
               "real_sync = timing.synchronize\ntiming.synchronize = lambda: syncs.append(1)")
    try:
        line = kernel.run("%timeit -n 10 -r 2 x @ x")
        assert line.ok and "per loop" in line.output and "2 runs, 10 loops each" in line.output, line.text()
        assert kernel.run("len(syncs)").value == "4"  # before and after each of the 2 runs
        cell = kernel.run("%%timeit -n 3 -r 2 -p 2 y = x + 1\ny @ y")
        assert cell.ok and "2 runs, 3 loops each" in cell.output, cell.text()
        assert kernel.run("len(syncs)").value == "8"
        one = kernel.run("%timeit -n 1 -r 1 x @ x")  # counted(): a count of one in the singular
        assert one.ok and "1 run, 1 loop each" in one.output, one.text()
        kept = kernel.run("r = %timeit -q -o -n 5 -r 1 x @ x\nr.loops, r.repeat")
        assert kept.ok and kept.output == "" and kept.value == "(5, 1)", kept.text()
        assert "%timeit" in kernel.run("%timeit").text()  # nothing to time: how to use it
    finally:
        kernel.run("timing.synchronize = real_sync\ndel timing, syncs, real_sync, x")


def test_variables_after_each_cell_and_details(kernel):
    news, _ = kernel.news_after("base = torch.arange(6.)\narr = base.numpy()\nview = base.view(2, 3)\n"
                                "tr = view.t()\ncopy = base.clone()\nnet = nn.Linear(2, 1)", Variables)
    names = {v.name: v for v in news.rows}
    assert names["base"].shape == "(6,)" and names["base"].nbytes == 24
    assert names["arr"].kind == "ndarray" and names["net"].kind == "module"
    assert "torch" not in names and "F" not in names
    info = kernel.request(DescribeVariable("base"))
    assert set(info.shares_with) >= {"arr", "view", "tr"} and "copy" not in info.shares_with
    assert not kernel.request(DescribeVariable("tr")).contiguous


def test_completion_finds_what_ipython_finds_and_runs_nothing(kernel):
    kernel.run("class Trap:\n    runs = 0\n    @property\n    def boom(self):\n        Trap.runs += 1\n"
               "        return torch.ones(1)\ntrap = Trap()\n"
               "class M(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
               "        self.fc = nn.Linear(2, 2)\nm = M()\nlin = nn.Linear(2, 2)\nx = torch.ones(2, 3)\n"
               "d = {'alpha': 1, 'beta': 2}")
    assert "m.fc.weight" in kernel.complete("m.fc.we")
    assert "lin.weight.grad" in kernel.complete("lin.weight.gr")
    assert "x.T.shape" in kernel.complete("x.T.sha")
    assert "d['alpha" in "".join(kernel.complete("d['al"))
    assert "torch.tensor" in kernel.complete("torch.ten")
    os.makedirs("/tmp/torchtui-complete-probe", exist_ok=True)
    assert any("torchtui-complete-probe" in c for c in kernel.complete('open("/tmp/torchtui-complete-pr'))
    kernel.complete("trap.boom.")
    kernel.complete("trap.boom.sha")
    assert kernel.run("Trap.runs").value == "0"


def test_completion_answers_while_a_cell_runs(kernel):
    cell = kernel.send("import time; time.sleep(3)")
    start = time.perf_counter()
    assert "torch.tensor" in kernel.complete("torch.ten")
    assert time.perf_counter() - start < 2
    assert kernel.wait_for(lambda e: isinstance(e, ev.CellDone) and e.cell == cell, 30)


def test_gradient_check_on_user_tensors_through_requests(kernel):
    kernel.run("x = torch.ones(2, 5)\nw = torch.randn(5, 3, requires_grad=True)\nb = torch.zeros(3, requires_grad=True)")
    news, _ = kernel.news_after("%autograd ((x @ w + b) ** 2).mean()", AutogradShown)
    inspection = news.inspection
    assert inspection.checkable
    check = kernel.request(CheckGradients(inspection.token))
    assert set(check.max_abs_error) == {"w", "b"} and check.worst < 1e-4
    values = kernel.request(GradValues(inspection.token, 0))
    assert values and all("shape" in v.summary for v in values)
    named, _ = kernel.news_after("loss = ((x @ w + b) ** 2).mean()\n%autograd loss", AutogradShown)
    assert not named.inspection.checkable and named.inspection.note == "ag.name_only_note"
    assert "expected a tensor, got int" in kernel.run("%autograd 5").text()


@dataclass(frozen=True)
class NoSuchThing(Request[None]):
    """A request this kernel's engine does not know (an app newer than it)."""


def test_examples_and_unknown_requests(kernel):
    payload = kernel.request(GradExample("mlp"))
    assert payload.recording.steps and payload.forward_rows
    with pytest.raises(RuntimeError, match="unknown example"):
        kernel.request(GradExample("nope"))
    with pytest.raises(RuntimeError, match="unknown request"):
        kernel.request(NoSuchThing())  # (an app newer than the kernel's engine)


def test_training_runs_in_the_kernel_and_leaves_the_model(kernel):
    from dataclasses import asdict

    from engine.training import RunConfig

    kernel.request(TrainStart(asdict(RunConfig(epochs=20)), 7))
    done = kernel.wait_for(lambda e: isinstance(e, TrainFinished), 120)
    assert done is not None and done.run == 7 and not done.error
    result = done.result
    assert result.epochs == 20 and len(result.loss_history) == 20
    assert kernel.run("type(trained_model).__name__").value == "'Linear'"
    with pytest.raises(RuntimeError, match="lr"):
        kernel.request(TrainStart({"lr": "-1"}))


def test_restart_gives_a_fresh_process(tmp_path, monkeypatch):
    from kernel_driver import KernelDriver

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    k = KernelDriver()
    try:
        first = k.run("import os; os.getpid()").value
        k.run("mine = 1")
        k.restart()
        assert k.run("mine").error.ename == "NameError"
        assert k.run("import os; os.getpid()").value != first
        assert k.run("torch.ones(1)").ok
    finally:
        k.close()


@pytest.mark.parametrize("source,cause", [
    ("import os; os._exit(3)", "code 3"),
    ("import os; os.kill(os.getpid(), 9)", "SIGKILL"),
    ("import ctypes; ctypes.string_at(0)", "SIGSEGV"),
])
def test_a_dying_kernel_is_reported_and_restart_brings_it_back(tmp_path, monkeypatch, source, cause):
    """...and the dead kernel's sockets go, as the next one's do when it is shut down."""
    import shutil
    import tempfile

    from kernel_driver import KernelDriver

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    runtime = Path(tempfile.mkdtemp(prefix="tt-"))  # short: ipc socket paths are limited in length
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    k = KernelDriver()
    try:
        k.send(source)
        died = k.wait_for(lambda e: isinstance(e, ev.KernelDied), 30)
        assert died is not None and cause in died.cause
        k.restart()
        assert k.run("1 + 1").value == "2"
    finally:
        k.close()
    assert (runtime / "torchtui").is_dir() and not list((runtime / "torchtui").iterdir())
    shutil.rmtree(runtime)


def test_tracebacks_show_the_learners_frames_and_count_the_rest(kernel):
    result = kernel.run("lin = nn.Linear(2, 3)\nlin(torch.ones(4))")
    text = result.error_text
    assert "Cell In[" in text and "cannot be multiplied" in text
    assert "site-packages" not in text and "frames inside libraries not shown" in text
    assert "linear.py" in kernel.run("%tb").text()  # everything is still there on request
    # under it: the line, its operands as typed with their shapes, and what to try
    explanation = text.split("cannot be multiplied")[1]
    assert "In the failing line: lin(torch.ones(4))" in explanation, text
    assert "  lin            Linear(in_features=2, out_features=3, bias=True)" in explanation, text
    assert "  torch.ones(4)  (4,)  float32  cpu" in explanation, text
    assert "Hint: lin takes inputs whose last dimension is 2; torch.ones(4) (4,) has 4 there" in " ".join(explanation.split()), text
    divided = kernel.run("1/0").error_text
    assert "frame" not in divided.split("ZeroDivisionError")[0].split("1/0")[-1]
    assert "Hint" not in divided and "failing line" not in divided  # no tensor, nothing to add
    kernel.run("def inner():\n    return 1/0")
    lines = [line.strip() for line in kernel.run("inner()").error_text.splitlines()]
    assert "inner()" in lines and "return 1/0" in lines  # the cell's line and the function's: both


def test_a_loss_given_a_target_of_another_shape_warns_with_the_fix_and_no_library_path(kernel):
    """The seed's regression: an output of (100, 1) against a target of (100,) broadcasts to
    (100, 100) without an error; the warning says so and how to fix it. Other warnings as Python
    shows them."""
    result = kernel.run("out, y = torch.randn(100, 1), torch.randn(100)\nloss = nn.MSELoss()(out, y)")
    said = " ".join(result.output.split())
    assert "(100,)" in said and "(100, 1)" in said and "y.reshape(-1, 1)" in said, result.output
    assert "site-packages" not in result.output and "UserWarning" not in result.output, result.output
    plain = kernel.run("import warnings\nwarnings.warn('a plain one')").output
    assert "UserWarning: a plain one" in plain, plain


def test_an_error_while_showing_a_value_shows_the_learners_line_only(kernel):
    """IPython's pretty printer recursing through a deeply nested list: the cell's line and the
    error, the printer's frames counted, as plain Python shows the line that asked for the repr."""
    result = kernel.run("deep = []\nfor _ in range(100_000):\n    deep = [deep]\ndeep")
    text = result.error_text
    assert "RecursionError" in text and "Cell In[" in text, text[:2000]
    assert "site-packages" not in text and "pretty" not in text, text[:2000]
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    assert lines[1].startswith("Cell In[") and lines[2] == "deep", text[:2000]
    assert "frames inside libraries not shown" in text
    assert "pretty.py" in kernel.run("%tb").text()  # all of it, on request
    kernel.run("del deep")


def test_a_syntax_error_shows_the_line_and_its_caret_as_python_does(kernel):
    """Only the learner's line, its caret where Python puts it, and (a block pasted from notes)
    what went wrong in the paste: no frame of IPython's parser."""
    text = kernel.run("x = 1\nprint(x)data = torch.tensor([[1, 2], [3, 4]])\nprint(data)").error_text
    assert "compilerop" not in text and "ast_parse" not in text and "site-packages" not in text, text
    assert "Traceback" not in text and "Cell In[" in text, text
    assert [line for line in text.splitlines() if line.strip()][-4:] == [
        "    print(x)data = torch.tensor([[1, 2], [3, 4]])", "            ^", "SyntaxError: invalid syntax",
        "Line 2 holds two statements run together: `print(x)` and `data = torch.tensor(…)`; "
        "put the second on a line of its own."], text
    text = kernel.run('%time 1 + 1\nprint(1)"""').error_text
    assert text.rstrip().splitlines()[-1] == "Line 2 ends with `\"\"\"`, left over from the notes' text: delete it.", text
    text = kernel.run("for i in range(3)\n    print(i)").error_text  # no paste's doing: Python's words only
    assert text.rstrip().splitlines()[-1] == "SyntaxError: expected ':'", text


def test_load_ext_puts_the_summary_after_the_whole_value(tmp_path):
    """In IPython (%load_ext engine.kernel) a tensor's text ends with its summary line; a tuple,
    list or dict of tensors is shown whole, with no summary line inside its brackets."""
    cells = ("%load_ext engine.kernel\nx = torch.ones(2)\nx, x.sum()\n[x]\n{'x': x}\nx\n"
             "row = x.reshape(1, 2)\nrow @ row\nnot_defined\n")
    done = subprocess.run([sys.executable, "-m", "IPython", "--simple-prompt", "--colors=NoColor",
                           "--HistoryManager.enabled=False"], input=cells, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "IPYTHONDIR": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "Out[3]: (tensor([1., 1.]), tensor(2.))\n" in out, out
    assert "Out[4]: [tensor([1., 1.])]\n" in out, out
    assert "Out[5]: {'x': tensor([1., 1.])}\n" in out, out
    assert "Out[6]: \ntensor([1., 1.])\n# shape (2,) · float32 · cpu · min 1 max 1" in out or \
        "Out[6]: tensor([1., 1.])\n# shape (2,) · float32 · cpu · min 1 max 1" in out, out
    assert out.count("# shape") == 1, out
    # a tensor error's explanation under IPython's own traceback; nothing more under a NameError
    explained = out.split("cannot be multiplied (1x2 and 1x2)")[1]
    assert "In the failing line: row @ row" in explained, out
    assert "  row  (1, 2)  float32  cpu" in explained and "Hint: In A @ B" in explained, out
    assert "Hint" not in explained.split("NameError")[1], out


def listening_tcp_sockets(pid: int) -> list[str]:
    """The TCP sockets a process listens on (from /proc: what `ss -ltnp` shows)."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if os.path.exists(table):
            for line in open(table).read().splitlines()[1:]:
                fields = line.split()
                if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                    found.append(fields[1])
    return found


@pytest.mark.skipif(not os.path.exists("/proc/net/tcp"), reason="needs Linux's /proc")
def test_the_kernel_listens_on_no_tcp_port_and_children_still_print(kernel):
    result = kernel.run("import multiprocessing as mp\np = mp.Process(target=print, args=('child says hi',))\n"
                        "p.start(); p.join()")
    assert "child says hi" in result.output
    pid = kernel.session.km.provisioner.process.pid
    assert listening_tcp_sockets(pid) == []


def test_shell_output_of_a_cell_is_its_own_even_when_a_request_came_in_meanwhile(kernel):
    """ipykernel sends what a child process writes to fd 1 with the parent of the last message any
    thread took: a request on the app's subshell during the cell must not take the output away."""
    from tui.kernel import events as ev

    cell = kernel.send("import os, time\ntime.sleep(0.5)\nstatus = os.system('echo fd-$((3*3))')")
    assert kernel.first_since(0, lambda e: isinstance(e, ev.CellStarted) and e.cell == cell, 30), "never started"
    kernel.call(kernel.session.request(Signature("print")))  # lands while the cell sleeps
    assert kernel.first_since(0, lambda e: isinstance(e, ev.CellDone) and e.cell == cell, 30), "never finished"

    def printed() -> str:
        return "".join(e.text for e in kernel.events if isinstance(e, ev.CellStream) and e.cell == cell)

    assert kernel.until(lambda: "fd-9" in printed(), 10), printed()



def test_the_welcome_names_only_the_modules_a_namespace_really_holds():
    """An attached kernel's `np` may be the learner's own string: hello names only real modules."""
    import numpy
    import torch

    from engine.kernel.requests import ready_names

    assert ready_names({"torch": torch, "np": "my string", "F": torch.nn.functional}) == ["torch", "F"]
    assert ready_names({"np": numpy, "nn": torch.nn, "optim": torch.optim}) == ["np", "nn", "optim"]
