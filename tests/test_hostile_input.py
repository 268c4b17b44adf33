"""Input a learner did not mean, or a terminal did not mean to send: a stray byte that is not
UTF-8, a recursion with the limit raised to 10**5, ctrl+c in a DataLoader loop, `sys.stdout = None`.
The app stays up and answers, and says in one sentence what happened."""

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.term import Terminal
from tui.kernel import events as ev

SLOW = pytest.mark.slow  # a kernel process, or the app in tmux


@SLOW
def test_a_deep_recursion_gives_a_short_traceback_that_counts_the_repeats(kernel):
    """With the limit at 10**5 the traceback had 100,000 frames: the kernel took a minute and a
    half to format it and the app grew past a gigabyte holding it. Repeated frames are collapsed,
    as Python collapses them, and what crosses to the app is bounded."""
    try:
        cell = kernel.run("import sys; sys.setrecursionlimit(10**5)\ndef f(n):\n    return f(n + 1)\nf(0)",
                          timeout=180)
    finally:
        kernel.run("sys.setrecursionlimit(3000)")
    assert cell.error is not None and cell.error.ename == "RecursionError", cell.text()
    text = cell.error_text
    assert len(text) < 20_000, len(text)
    assert sum(len(part) for part in cell.error.traceback) < 20_000
    repeated = re.search(r"repeated ([\d,]+) more times", text)
    assert repeated, text
    assert int(repeated.group(1).replace(",", "")) > 99_000
    assert "return f(n + 1)" in text and "f(0)" in text  # the learner's lines, where it started
    assert text.count("return f(n + 1)") <= 4
    assert kernel.run("1 + 1").value == "2"


@SLOW
def test_frames_that_do_not_repeat_are_cut_to_the_first_and_last(kernel):
    """Two functions calling each other never repeat the same line twice in a row: the frames
    beyond a cap are cut from the middle, and the traceback says how many."""
    source = ("import sys; sys.setrecursionlimit(20_000)\n"
              "def ping(n):\n    return pong(n + 1)\n"
              "def pong(n):\n    return ping(n + 1)\n"
              "ping(0)")
    try:
        cell = kernel.run(source, timeout=180)
    finally:
        kernel.run("sys.setrecursionlimit(3000)")
    text = cell.error_text
    assert cell.error is not None and cell.error.ename == "RecursionError", cell.text()
    assert len(text) < 20_000, len(text)
    cut = re.search(r"([\d,]+) frames", text)
    assert cut and int(cut.group(1).replace(",", "")) > 19_900, text
    assert "ping(0)" in text and text.rstrip().endswith("maximum recursion depth exceeded")


@SLOW
def test_a_huge_error_message_is_cut_before_it_reaches_the_app(kernel):
    cell = kernel.run("raise ValueError('x' * 10**6)")
    assert cell.error is not None and cell.error.ename == "ValueError"
    assert sum(len(part) for part in cell.error.traceback) < 20_000
    assert "characters" in cell.error_text  # says that it was cut


@SLOW
def test_ctrl_c_in_a_dataloader_loop_shows_the_learners_frames(kernel):
    """The interrupt lands where the loop waits for a worker's batch: inside multiprocessing,
    selectors and threading. Those frames are counted, not shown, as for any other error."""
    source = (
        "from torch.utils.data import DataLoader, Dataset\n"
        "import time as _time\n"
        "class Slow(Dataset):\n"
        "    def __len__(self):\n        return 10**6\n"
        "    def __getitem__(self, i):\n        _time.sleep(0.05)\n        return i\n"
        "for i, batch in enumerate(DataLoader(Slow(), batch_size=4, num_workers=2)):\n"
        "    if i == 0:\n        print('first batch', flush=True)\n"
    )
    with kernel.cond:
        mark = len(kernel.events)
    cell = kernel.send(source)
    assert kernel.first_since(mark, lambda e: isinstance(e, ev.CellStream) and "first batch" in e.text, 60)
    kernel.interrupt()
    done = kernel.first_since(mark, lambda e: isinstance(e, ev.CellDone) and e.cell == cell, 60)
    assert done is not None
    with kernel.cond:
        errors = [e for e in kernel.events[mark:] if isinstance(e, ev.CellError) and e.cell == cell]
    assert errors and errors[0].ename == "KeyboardInterrupt"
    text = "\n".join(errors[0].traceback)
    assert "enumerate(DataLoader" in text, text
    for library in ("multiprocessing", "selectors.py", "threading.py", "torch/utils/data"):
        assert library not in text, text
    assert re.search(r"\d+ frames inside libraries not shown", text), text
    assert kernel.run("2 + 2").value == "4"


@SLOW
@pytest.mark.parametrize("stream", ["stdout", "stderr"])
def test_a_stream_set_to_none_is_put_back_and_the_next_cell_runs(kernel, stream):
    """`sys.stdout = None` left the kernel unable to flush at the cell's end: the next cell stayed
    "running" for ever."""
    cell = kernel.run(f"import sys; sys.{stream} = None", timeout=30)
    assert f"sys.{stream}" in cell.output and "put back" in cell.output, cell.text()
    after = kernel.run("print('still here'); 3 * 3", timeout=30)
    assert after.ok and "still here" in after.output and after.value == "9", after.text()


def _start_app(tmp_path) -> Terminal:
    exe = Path(sys.executable).with_name("torchtui")
    command = str(exe) if exe.exists() else f"{sys.executable} -m tui"
    env = {"XDG_STATE_HOME": str(tmp_path / "state"), "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "PATH": os.environ.get("PATH", ""), "TERM": "xterm-256color"}
    return Terminal(command, 80, 24, env)


def _quit(term: Terminal) -> None:
    """ctrl+q, and wait (bounded) for the app to be gone, so that its history is all written."""
    subprocess.run(["tmux", "send-keys", "-t", term.name, "C-q"], capture_output=True)
    end = time.monotonic() + 10
    while time.monotonic() < end and "Playground" in term.screen():
        time.sleep(0.1)
    term.close()


def _alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


@SLOW
@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
@pytest.mark.parametrize("byte", ["e9", "ff"])
def test_a_byte_that_is_not_utf8_is_dropped_and_keys_keep_working(tmp_path, byte):
    """A stray byte (a serial console, a bad paste, a mis-set locale) killed Textual's input
    thread with a UnicodeDecodeError: keys stopped working and the app then exited."""
    term = _start_app(tmp_path)
    try:
        assert term.wait("Playground", 30), term.screen()
        assert term.wait("loaded", 60), term.screen()
        app = term.pid()
        subprocess.run(["tmux", "send-keys", "-t", term.name, "-H", byte], check=True)
        # (e9 starts a three-byte character: it is known to be stray once the next key comes)
        term.type("1 + 1")
        assert term.wait("UTF-8", 20), term.screen()  # said, in a notification
        term.keys("Enter")
        assert term.wait("Out[1]: 2", 30), term.screen()
        assert "Traceback" not in term.screen() and "\ufffd" not in term.screen()
        assert _alive(app)
        term.type("2 + 3")
        term.keys("Enter")
        assert term.wait("Out[2]: 5", 30), term.screen()
    finally:
        _quit(term)
    history = (tmp_path / "state" / "torchtui" / "history").read_text()
    assert "1 + 1" in history and "2 + 3" in history


@pytest.mark.parametrize("parts", [1, 3, 100_000])
def test_an_unbounded_error_from_another_kernel_is_bounded_for_the_playground(parts):
    """A kernel torchtui attached to (a notebook's) shapes no traceback: 100,000 frames, or one
    huge message, are cut for the Playground to the first part and the last ones, saying so."""
    from tui.kernel.display import ERROR_CHARS, bounded_error

    frames = tuple(f"  File x.py:{i} in f\n    return f(n + 1)\n" for i in range(parts))
    traceback = ("Traceback (most recent call last):\n", *frames, "RecursionError: " + "y" * 10**6)
    kept, evalue = bounded_error(traceback, "y" * 10**6)
    assert sum(map(len, kept)) <= ERROR_CHARS + 200 and len(evalue) <= ERROR_CHARS + 1
    assert kept[0] == traceback[0] and kept[-1].startswith("RecursionError: yyy")
    assert re.search(r"[\d,]+ characters of the traceback not shown", "".join(kept))
    small = ("Traceback (most recent call last):\n", "ValueError: x")
    assert bounded_error(small, "x") == (small, "x")


def test_an_error_of_megabytes_from_a_kernel_reaches_the_screens_bounded():
    """Whatever the kernel sends, the session hands the screens the bounded error only."""
    from tui.kernel.base import Cell
    from tui.kernel.display import ERROR_CHARS
    from tui.kernel.own import OwnKernel

    said: list = []
    session = OwnKernel(said.append)
    session.cells["msg-1"] = Cell("f(0)", 0.0, id="cell-1", started=0.0)
    frames = [f"  File x.py:{i} in f\n    return f(n + 1)\n" for i in range(100_000)]
    session._on_iopub({"msg_type": "error", "parent_header": {"msg_id": "msg-1"}, "header": {},
                       "content": {"ename": "RecursionError", "evalue": "y" * 10**6,
                                   "traceback": ["Traceback (most recent call last):\n", *frames]}})
    [error] = [e for e in said if isinstance(e, ev.CellError)]
    assert error.cell == "cell-1" and error.ename == "RecursionError"
    assert sum(map(len, error.traceback)) <= ERROR_CHARS + 200 and len(error.evalue) <= ERROR_CHARS + 1


def _pane(term: Terminal, *flags: str) -> list[str]:
    shown = subprocess.run(["tmux", "display-message", "-p", "-t", term.name, " ".join(f"#{{{f}}}" for f in flags)],
                           capture_output=True, text=True).stdout
    return shown.split()


@SLOW
@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_printed_escape_sequences_never_reach_the_terminal_and_a_paste_keeps_its_order(tmp_path):
    """`print('\\x1bc')` reset the terminal (the frame wiped, mouse reporting off); `print('\\x1b#8')`
    filled the screen with E's; an ESC inside a bracketed paste sent what followed it as keys,
    ahead of the paste."""
    term = _start_app(tmp_path)
    try:
        assert term.wait("loaded", 60), term.screen()
        assert _pane(term, "mouse_any_flag", "alternate_on") == ["1", "1"]
        term.type("print('a\\x1bcb'); print('E\\x1b#8F')")
        term.keys("Enter")
        assert term.wait("EF", 30), term.screen()
        screen = term.screen()
        assert "ab" in screen and "torchtui · Playground" in screen.splitlines()[0]
        assert "EEEEEEEEEE" not in screen
        assert _pane(term, "mouse_any_flag", "alternate_on") == ["1", "1"]  # no reset reached tmux
        subprocess.run(["tmux", "set-buffer", "-b", "hostile", "b_src = 'x\x1byz'; print(b_src[::-1])"], check=True)
        subprocess.run(["tmux", "paste-buffer", "-p", "-d", "-b", "hostile", "-t", term.name], check=True)
        assert term.wait("b_src = 'xyz'", 10), term.screen()
        term.keys("Enter")
        assert term.wait("zyx", 30), term.screen()
    finally:
        _quit(term)
    history = (tmp_path / "state" / "torchtui" / "history").read_text()
    assert "b_src = 'xyz'; print(b_src[::-1])" in history


def test_an_escape_inside_a_paste_is_dropped_wherever_a_read_ends_and_keys_outside_are_kept():
    from tui.upstream import PasteEscapes

    start = "\x1b[A"
    stream = start + "\x1b[200~b_src = 'x\x1byz'\n\x1b[201~" + "\x1b" + "q"
    marker = range(len(start) + 1, len(start) + 6)  # (a start marker cut in two is not seen)
    for cut in (c for c in range(len(stream) + 1) if c not in marker):
        paste = PasteEscapes()
        out = paste.filter(stream[:cut]) + paste.filter(stream[cut:])
        assert out == "\x1b[A\x1b[200~b_src = 'xyz'\n\x1b[201~\x1bq", cut
        assert not paste.pasting
    assert PasteEscapes().filter("\x1b") == "\x1b"  # the Escape key alone is never held back
