"""The kernel takes what its cells started along when it goes, even when the app is killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")]

ROOT = Path(__file__).resolve().parent.parent

# An app stand-in: a kernel started as the app starts it, a cell that leaves two processes behind
# (one started with Popen, one forked), their pids printed, then waiting to be killed.
APP = """
import sys
sys.path[:0] = [{root!r}, {tests!r}]
from kernel_driver import KernelDriver
driver = KernelDriver()
cell = driver.run(
    "import os, subprocess, time\\n"
    "left = subprocess.Popen(['sleep', '600'])\\n"
    "forked = os.fork()\\n"
    "if forked == 0:\\n"
    "    time.sleep(600)\\n"
    "    os._exit(0)\\n"
    "print('pids', left.pid, forked, os.getpid())")
print(cell.output.strip(), flush=True)
sys.stdin.read()
"""


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has ended; only its entry waits for its parent


def wait_gone(pids: list[int], timeout: float) -> list[int]:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        left = [pid for pid in pids if alive(pid)]
        if not left:
            return []
        time.sleep(0.1)
    return [pid for pid in pids if alive(pid)]


def test_killing_the_app_takes_the_kernel_and_what_its_cells_started_along():
    app = subprocess.Popen([sys.executable, "-c", APP.format(root=str(ROOT), tests=str(ROOT / "tests"))],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        line = app.stdout.readline()
        assert line.startswith("pids "), line
        popened, forked, kernel = (int(word) for word in line.split()[1:])
        assert alive(popened) and alive(forked) and alive(kernel)
        app.send_signal(signal.SIGKILL)
        app.wait(30)
        assert wait_gone([kernel, popened, forked], 30) == []
    finally:
        app.kill()
        for pid in locals().get("popened", 0), locals().get("forked", 0):
            if pid and alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_an_interrupt_spares_the_reaper_and_quitting_takes_the_cells_processes_along():
    from kernel_driver import KernelDriver

    driver = KernelDriver()
    try:
        kernel = driver.session.km.provisioner.process.pid
        started = driver.run("import subprocess, sys\n"
                             "left = subprocess.Popen([sys.executable, '-c', 'import signal, time; "
                             "signal.signal(signal.SIGINT, signal.SIG_IGN); print(1, flush=True); time.sleep(600)'], "
                             "stdout=subprocess.PIPE)\n"
                             "left.stdout.readline()\n"  # (it ignores SIGINT from here on)
                             "print(left.pid)")
        popened = int(started.output.strip())
        reapers = [pid for pid in children(kernel) if b"reaper.py" in Path(f"/proc/{pid}/cmdline").read_bytes()]
        assert len(reapers) == 1
        driver.call(driver.session.interrupt())  # SIGINT to the kernel's whole group
        assert driver.run("1 + 1").value == "2"
        assert alive(reapers[0]) and alive(popened)
    finally:
        driver.close()  # as ctrl+q does: the kernel is asked to stop, and stops
    assert wait_gone([kernel, reapers[0], popened], 30) == []


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == pid:
                found.append(int(entry.name))
    return found


def test_a_kernel_asked_to_shut_down_ends_by_itself_and_its_reaper_with_it(tmp_path):
    """ipykernel ends its children before it exits: the reaper, one of them, goes when the kernel
    asks (it ignores a SIGTERM sent to the whole group only), and is reaped, so the kernel exits
    with 0 instead of waiting on it until jupyter_client kills it (-15) after half its wait."""
    from jupyter_client import KernelManager
    from jupyter_client.kernelspec import KernelSpec

    from tui.kernel.launch import kernel_argv, kernel_env

    km = KernelManager(transport="ipc", ip=str(tmp_path / "kernel"), connection_file=str(tmp_path / "kernel.json"))
    km._kernel_spec = KernelSpec(argv=kernel_argv(), display_name="torchtui", language="python",
                                 interrupt_mode="signal", resource_dir="")
    km.start_kernel(env=kernel_env())
    client = km.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=120)
    finally:
        client.stop_channels()
    process = km.provisioner.process
    reapers = [int(pid) for pid in os.listdir("/proc") if pid.isdigit() and _parent_of(int(pid)) == process.pid
               and b"reaper.py" in Path(f"/proc/{pid}/cmdline").read_bytes()]
    assert len(reapers) == 1, reapers
    # killed only past 30 s: far more than a kernel needs to end (3 s alone; past 10 s once in a
    # loaded run of the suite), and far less than forever, which is how long it waited on its reaper
    km.shutdown_wait_time = 60.0
    km.shutdown_kernel(now=False)
    assert process.poll() == 0
    assert _parent_of(reapers[0]) != process.pid  # gone (or a stranger that took its number)


def _parent_of(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return 0
