"""The real `torchtui` in a real terminal (tmux) at 80x24: a cell, a bad cell, an interrupt, a
shell command's output; quitting, or killing the app, leaves no kernel behind."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.term import Terminal

pytestmark = [pytest.mark.slow, pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")]


def start(tmp_path, **extra: str) -> Terminal:
    exe = Path(sys.executable).with_name("torchtui")
    command = str(exe) if exe.exists() else f"{sys.executable} -m tui"
    env = {"XDG_STATE_HOME": str(tmp_path / "state"), "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "PATH": os.environ.get("PATH", ""), "TERM": "xterm-256color", **extra}
    return Terminal(command, 80, 24, env)


@pytest.mark.parametrize("env", [{"TERM": "xterm"}, {"TERM": "screen"}, {"TERM": "tmux-256color"},
                                 {"TERM": "linux"}, {"NO_COLOR": "1"}, {"LANG": "C", "LC_ALL": "C"}])
def test_terminals_and_locales(tmp_path, env):
    """The app draws and runs cells under each TERM, without colour, and in the C locale (the
    too-small notice and the way back are tested with Pilot, in test_terminal); keys typed at its
    first frame, before the editor and the kernel are up, are kept; killed (-9), it takes its
    kernel along."""
    term = start(tmp_path, **env)
    try:
        assert term.wait("Playground", 30), term.screen()
        term.type("torch.ones(2) + 1")
        term.keys("Enter")
        term.type("_ * 2")
        term.keys("Enter")
        assert term.wait("Out[2]: tensor([4., 4.])", 60), term.screen()
        run_cell(term, "6 * 7", "Out[3]: 42")
        assert "Traceback" not in term.screen()
        kernels = term.descendants("engine.kernel.launcher")
        assert len(kernels) == 1
        os.kill(term.pid(), signal.SIGKILL)
        assert gone_within(kernels, 10)
    finally:
        term.close()


def wait_ready(term: Terminal) -> None:
    """The first frame, then the kernel: cells can run."""
    assert term.wait("Playground", 30), term.screen()
    assert term.wait("loaded", 60), term.screen()


def run_cell(term: Terminal, source: str, shows: str) -> None:
    """Type a cell, press Enter, and wait until `shows` is on screen."""
    term.type(source)
    term.keys("Enter")
    assert term.wait(shows), term.screen()


def gone_within(pids: list[int], seconds: float) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if not any(Path(f"/proc/{p}").exists() for p in pids):
            return True
        time.sleep(0.1)
    return False


def test_processes_under_the_app_are_found_by_their_whole_command_line(tmp_path):
    """A kernel's command line is long: the clone's path, its environment's python, then
    `-m engine.kernel.launcher`. Under pytest, which imports readline, every child process gets
    COLUMNS=80, and `ps` cuts its lines at that width: with the long process ids of a busy
    machine and a longer checkout path, the module's name fell off the line and the test found
    "no kernel process". A command line far wider than 80 columns is found all the same."""
    marker = "torchtui-test-marker"
    command = f"{sys.executable} -c 'import time; time.sleep(60)' {'x' * 120} {marker}; true"
    term = Terminal(command, 80, 24, {"PATH": os.environ.get("PATH", "")})
    try:
        found = until(lambda: term.descendants(marker), 30)
        assert len(found) == 1, found
        assert marker.encode() in Path(f"/proc/{found[0]}/cmdline").read_bytes()
    finally:
        term.close()


def until(found, seconds: float):
    """found()'s first true answer within `seconds` (looked for every 0.1 s), else its last one."""
    end = time.monotonic() + seconds
    while not (answer := found()) and time.monotonic() < end:
        time.sleep(0.1)
    return answer


def test_real_terminal_session(tmp_path):
    """A paste at the first frame, values, an error, an interrupt, a shell command; quitting."""
    cell = tmp_path / "cell.py"
    cell.write_text("a = torch.arange(4.)\nwith torch.no_grad():\n    b = a * 2\nprint('pasted', b.sum().item())\n")
    term = start(tmp_path)
    try:
        assert term.wait("Playground", 30), term.screen()
        subprocess.run(["tmux", "load-buffer", "-b", term.name, str(cell)], check=True)
        subprocess.run(["tmux", "paste-buffer", "-p", "-d", "-b", term.name, "-t", term.name], check=True)
        assert term.wait("print('pasted', b.sum().item())", 30), term.screen()  # the whole paste is in the editor
        term.keys("Enter")
        assert term.wait("pasted 12.0", 60), term.screen()
        wait_ready(term)
        run_cell(term, "torch.ones(2) * 3", "tensor([3., 3.])")
        run_cell(term, "torch.ones(2) @ torch.ones(3)", "RuntimeError")
        run_cell(term, "while True: pass", "running [4]")
        term.keys("C-c")
        assert term.wait("KeyboardInterrupt"), term.screen()
        run_cell(term, "41 + 1", "Out[5]: 42")
        # a subprocess writing to its stdout lands in the cell's output, not over the screen
        run_cell(term, "import os; os.system('echo FROM-SHELL')", "FROM-SHELL")
        assert term.wait("Out[6]: 0"), term.screen()
        assert term.screen().splitlines()[0].startswith("torchtui · Playground")
        kernels = term.descendants("engine.kernel.launcher")
        assert len(kernels) == 1
        args = Path(f"/proc/{kernels[0]}/cmdline").read_bytes().split(b"\0")
        connection = Path(args[args.index(b"-f") + 1].decode())
        assert json.loads(connection.read_text())["transport"] == "ipc"  # no TCP port to listen on
        assert connection.stat().st_mode & 0o777 == 0o600
        term.keys("C-q")
        end = time.monotonic() + 10
        while time.monotonic() < end and "Playground" in term.screen():
            time.sleep(0.1)
        assert "Playground" not in term.screen()
        assert gone_within(kernels, 10)
    finally:
        term.close()
    history = (tmp_path / "state" / "torchtui" / "history").read_text()
    assert "while True: pass" in history


def test_killing_the_app_stuck_in_a_c_call_takes_its_kernel_along(tmp_path):
    """Stuck in a C call that holds the GIL, where a thread watching the parent never gets to
    run (killing it idle: test_terminals_and_locales)."""
    term = start(tmp_path)
    try:
        assert term.wait("loaded", 60), term.screen()
        kernels = term.descendants("engine.kernel.launcher")
        assert len(kernels) == 1
        term.type("sum(range(10**11))")
        term.keys("Enter")
        # "running [1]", or "running" alone when the C call took the GIL before the kernel's
        # message that it started could go out
        assert term.wait("● running", 20), term.screen()
        time.sleep(1)  # (deep in the C call by now: nothing to wait on from outside)
        os.kill(term.pid(), signal.SIGKILL)
        assert gone_within(kernels, 10)
    finally:
        term.close()


def pane_state(term: Terminal) -> str:
    """`alternate-screen cursor-shown mouse-reporting` of the pane, each 1 or 0 (tmux's own view)."""
    return subprocess.run(["tmux", "display-message", "-p", "-t", term.name,
                           "#{alternate_on} #{cursor_flag} #{mouse_any_flag}"],
                          capture_output=True, text=True).stdout.strip()


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT], ids=lambda n: n.name)
def test_a_signal_to_the_app_leaves_the_terminal_as_it_was_and_stops_the_kernel(tmp_path, number):
    """kill, a closed terminal or SSH connection (SIGHUP), kill -QUIT: the app leaves the alternate
    screen, turns mouse reporting off, shows the cursor, stops its kernel and exits 128 + signal,
    back at the shell's prompt."""
    exe = Path(sys.executable).with_name("torchtui")
    app = str(exe) if exe.exists() else f"{sys.executable} -m tui"
    env = {"XDG_STATE_HOME": str(tmp_path / "state"), "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "PATH": os.environ.get("PATH", ""), "TERM": "xterm-256color", "HOME": str(tmp_path)}
    term = Terminal("PS1='PROMPT> ' bash --norc --noprofile", 80, 24, env)  # (bash resets an inherited PS1)
    try:
        assert term.wait("PROMPT>", 30), term.screen()
        before = pane_state(term)
        assert before == "0 1 0", before
        term.type(f"{app}; echo \"exit=$?\"")
        term.keys("Enter")
        wait_ready(term)
        assert pane_state(term) == "1 0 1"  # what the app set: the state to undo
        apps = until(lambda: [p for p in term.descendants() if Path(f"/proc/{p}/cmdline").exists()
                              and b"engine.kernel" not in Path(f"/proc/{p}/cmdline").read_bytes()
                              and b"tui" in Path(f"/proc/{p}/cmdline").read_bytes()], 10)
        kernels = term.descendants("engine.kernel.launcher")
        assert len(apps) == 1 and len(kernels) == 1, (apps, kernels)
        os.kill(apps[0], number)
        assert term.wait(f"exit={128 + number}", 20), term.screen()
        assert until(lambda: pane_state(term) == "0 1 0", 10), pane_state(term)
        assert term.screen().rstrip().endswith("PROMPT>"), term.screen()  # the shell's prompt is back
        assert gone_within(kernels, 10)
    finally:
        term.close()
