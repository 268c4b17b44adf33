"""Attaching to a kernel torchtui did not start (`torchtui --existing`), and the engine loaded by
hand in IPython: the kernels here are started with plain jupyter_client, as a notebook's are."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from engine.protocol import DescribeVariable, TourCheck
from tests.helpers import log_text, running, static_text, type_cell, wait_for
from tui import cli
from tui.app import make_app

pytestmark = pytest.mark.slow  # each test starts a Jupyter kernel


@pytest.fixture
def jupyter_dirs(tmp_path, monkeypatch):
    """Jupyter's runtime folder and IPython's profile of these tests only."""
    runtime = tmp_path / "jupyter-runtime"
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(runtime))
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    return runtime


def start_kernel(spec_dirs: list[str] | None = None, name: str = "python3"):
    """A kernel as a notebook server starts one: jupyter_client's KernelManager, nothing of torchtui's."""
    from jupyter_client import KernelManager
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_core.paths import jupyter_runtime_dir

    runtime = Path(jupyter_runtime_dir())  # where a notebook server writes its kernels' files
    runtime.mkdir(parents=True, exist_ok=True)
    km = KernelManager(kernel_name=name, connection_file=str(runtime / f"kernel-{os.urandom(4).hex()}.json"))
    if spec_dirs:
        km.kernel_spec_manager = KernelSpecManager(kernel_dirs=spec_dirs)
    km.start_kernel()
    kc = km.client()  # running, as a notebook's kernel is by the time anyone attaches to it
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=60)
    finally:
        kc.stop_channels()
    return km


def ask(km, code: str) -> str:
    """Run code in the kernel as a second, plain client; its stdout."""
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=30)
        out: list[str] = []
        def keep(msg) -> None:
            if msg["msg_type"] == "stream" and msg["content"]["name"] == "stdout":
                out.append(msg["content"]["text"])

        reply = kc.execute_interactive(code, timeout=30, output_hook=keep)
        assert reply["content"]["status"] == "ok", reply["content"]
        return "".join(out)
    finally:
        kc.stop_channels()


@pytest.fixture
def notebook_kernel(jupyter_dirs):
    km = start_kernel()
    yield km
    km.shutdown_kernel(now=True)



async def test_attached_app_works_on_the_kernels_namespace_and_leaves_it_running(notebook_kernel):
    km = notebook_kernel
    ask(km, "import torch\nw = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)\nF = 'mine'\n"
            "t = torch.full((3, 4), 7)")
    app = make_app(existing=Path(km.connection_file))
    async with running(app, size=(100, 30)) as pilot:
        assert await wait_for(pilot, lambda: app.kernel.ready, 60)
        name = Path(km.connection_file).name
        assert await wait_for(pilot, lambda: f"attached to {name[:15]}" in app.status_text, 10), app.status_text
        assert await wait_for(pilot, lambda: "Attached to the running kernel" in log_text(app))
        await type_cell(pilot, "loss = (w * w).sum()")
        table = app.screen.query_one("#vars")
        assert await wait_for(pilot, lambda: table.row_count == 3, 20)
        assert sorted(str(table.get_row_at(i)[0]) for i in range(3)) == ["loss", "t", "w"]
        check = await app.kernel.request(TourCheck("create"))  # Learn, on the notebook's t
        assert check.passed, check
        await type_cell(pilot, "F")  # the notebook's own F is not replaced by torch.nn.functional
        assert await wait_for(pilot, lambda: "'mine'" in log_text(app), 20)
        await type_cell(pilot, "%autograd loss")
        assert await wait_for(pilot, lambda: app.current_mode == "autograd", 30)
        grad = app.screen
        assert await wait_for(pilot, lambda: grad.recording is not None, 20)
        leaf_steps = [s for s in grad.recording.steps if s.grad_after is not None]
        assert [s.grad_after.value for s in leaf_steps] == ["[2, 4, 6]"]
        await pilot.press("f2")
        await pilot.press("f9")  # someone else's kernel: asked first, and Escape keeps it
        assert await wait_for(pilot, lambda: type(app.screen).__name__ == "Confirm")
        assert "did not start" in static_text(app.screen.query_one("#confirm-text"))
        await pilot.press("escape")
        assert await wait_for(pilot, lambda: type(app.screen).__name__ != "Confirm", 10), app.screen
    assert km.is_alive()
    assert ask(km, "print(loss.item(), w.grad)") == "14.0 None\n"
    # a notebook's %autograd prints the walk, since no app sent that cell
    assert "Step 1/" in ask(km, "%autograd (w * 3).sum()")


async def test_a_kernel_without_the_engine_runs_plain(jupyter_dirs, tmp_path):
    spec = tmp_path / "kernels" / "noengine"
    spec.mkdir(parents=True)
    launch = "import sys; sys.modules['engine'] = None; from ipykernel import kernelapp; kernelapp.launch_new_instance()"
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-c", launch, "-f", "{connection_file}"],
        "display_name": "no engine", "language": "python"}))
    km = start_kernel([str(tmp_path / "kernels")], "noengine")
    try:
        app = make_app(existing=Path(km.connection_file))
        async with running(app, size=(100, 30)) as pilot:
            assert await wait_for(pilot, lambda: app.kernel.ready, 60)
            # the status line is worded once the kernel's first reply has come back to the screen
            assert await wait_for(pilot, lambda: "plain Jupyter" in app.status_text, 20), app.status_text
            assert await wait_for(pilot, lambda: "no torchtui engine" in log_text(app))
            await type_cell(pilot, "print(6 * 7)")
            assert await wait_for(pilot, lambda: "42" in log_text(app), 20)
            with pytest.raises(Exception, match="no torchtui engine"):
                await app.kernel.request(DescribeVariable("x"))
            start, _, words = await app.kernel.complete("import jso", 10)
            assert "json" in words
            await type_cell(pilot, "import time; time.sleep(30)")
            assert await wait_for(pilot, lambda: app.kernel.running is not None, 20)
            await pilot.press("ctrl+c")
            assert await wait_for(pilot, lambda: "KeyboardInterrupt" in log_text(app), 20)
        assert km.is_alive()
    finally:
        km.shutdown_kernel(now=True)


OWNER = textwrap.dedent("""
    import asyncio
    from jupyter_client.ioloop import AsyncIOLoopKernelManager

    async def main():
        km = AsyncIOLoopKernelManager(kernel_name="python3")
        await km.start_kernel()
        km.start_restarter()  # what a notebook server does: a kernel that dies is started again
        print(km.connection_file, flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())
""")


async def test_restart_of_an_attached_kernel_is_confirmed_and_its_owner_brings_it_back(jupyter_dirs):
    owner = subprocess.Popen([sys.executable, "-c", OWNER], stdout=subprocess.PIPE, text=True)
    try:
        connection = Path(owner.stdout.readline().strip())
        app = make_app(existing=connection)
        async with running(app, size=(100, 30)) as pilot:
            assert await wait_for(pilot, lambda: app.kernel.ready, 60)
            await type_cell(pilot, "before = 1")
            assert await wait_for(pilot, lambda: app.kernel.running is None and "In [1]" in log_text(app), 20)
            await pilot.press("f9")
            assert await wait_for(pilot, lambda: type(app.screen).__name__ == "Confirm")
            await pilot.press("tab", "enter")  # from "Cancel" to "Restart it"
            assert await wait_for(pilot, lambda: "fresh kernel is ready" in log_text(app), 90), log_text(app)
            await type_cell(pilot, "'before' in dir(), torch.ones(1).sum().item()")
            assert await wait_for(pilot, lambda: "(False, 1.0)" in log_text(app), 30), log_text(app)
            # a kernel that dies is said so (the heartbeat stops, or a new process answers); once
            # its owner has started it again, torchtui attaches again
            await type_cell(pilot, "import os; os._exit(1)")
            assert await wait_for(pilot, lambda: log_text(app).count("fresh kernel is ready") == 2, 90), log_text(app)
            assert not app.screen.query_one("#kernel-banner").has_class("-shown")
            await type_cell(pilot, "6 * 7")
            assert await wait_for(pilot, lambda: "Out[1]: 42" in log_text(app), 30), log_text(app)
    finally:
        owner.terminate()
        owner.wait(10)


def test_heartbeat_says_an_attached_kernel_went_and_attaches_again_when_it_is_back(notebook_kernel):
    from kernel_driver import KernelDriver

    from tui.kernel import events as ev

    km = notebook_kernel
    driver = KernelDriver(existing=Path(km.connection_file))
    try:
        assert driver.run("gone_with_it = 1").ok
        km.shutdown_kernel(now=True, restart=True)  # down, its connection file kept
        died = driver.wait_for(lambda e: isinstance(e, ev.KernelDied), 30)
        assert died is not None and "stopped answering" in died.cause
        km.start_kernel()  # the same ports, as an owner's restart keeps them
        back = driver.wait_for(lambda e: isinstance(e, ev.KernelReady), 60)
        assert back is not None and back.restarted and not back.error
        assert driver.run("'gone_with_it' in dir()").value == "False"
        assert driver.request(DescribeVariable("torch")) is None  # the engine is loaded again
    finally:
        driver.close()


def test_cli_attach_errors_are_one_line_and_exit_2(jupyter_dirs, tmp_path, capsys):
    def fails(*argv: str) -> str:
        assert cli.main(list(argv)) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("torchtui: error: "), err
        return err

    assert "no running Jupyter kernel" in fails("--existing")
    assert "no connection file" in fails("--existing", str(tmp_path / "gone.json"))
    (tmp_path / "junk.json").write_text("not json")
    assert "not a Jupyter connection file" in fails("--existing", str(tmp_path / "junk.json"))
    (tmp_path / "half.json").write_text('{"ip": "127.0.0.1"}')
    assert "not a Jupyter connection file" in fails("--existing", str(tmp_path / "half.json"))
    from jupyter_client.connect import write_connection_file

    dead = tmp_path / "kernel-dead.json"  # a kernel's file, with ports nothing listens on
    write_connection_file(str(dead), key=b"secret")
    started = time.monotonic()
    assert "does not answer" in fails("--existing", str(dead))
    assert time.monotonic() - started < 10
    assert "--existing is for the app" in fails("--existing", str(dead), "grad")


def test_newest_live_kernel_is_found(notebook_kernel, jupyter_dirs):
    from tui.kernel.attach import find

    stale = jupyter_dirs / "kernel-stale.json"
    info = json.loads(Path(notebook_kernel.connection_file).read_text())
    import socket

    with socket.socket() as free:  # a port nothing listens on
        free.bind(("127.0.0.1", 0))
        info["hb_port"] = free.getsockname()[1]
    stale.write_text(json.dumps(info))  # newer, but nothing answers there
    assert find("") == Path(notebook_kernel.connection_file)
    assert find(Path(notebook_kernel.connection_file).name) == Path(notebook_kernel.connection_file)


def test_load_ext_in_ipython_prints_summaries_and_the_autograd_walk(tmp_path):
    cells = "%load_ext engine.kernel\ntorch.arange(6.).reshape(2, 3)\nx = torch.ones(2, requires_grad=True)\n%autograd (x * 3).sum()\n"
    done = subprocess.run([sys.executable, "-m", "IPython", "--simple-prompt", "--colors=NoColor",
                           "--HistoryManager.enabled=False"], input=cells, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "IPYTHONDIR": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    assert "# shape (2, 3) · float32 · cpu · min 0 max 5 mean 2.5" in done.stdout
    assert "Step 1/3" in done.stdout and "  x: tensor([3., 3.])" in done.stdout


def test_load_ext_in_ipython_gives_plot_and_a_live_that_keeps_its_run_for_export(tmp_path):
    """In IPython or a notebook (no app to draw them) %plot prints, and live() keeps the run in the
    kernel, for live.export."""
    csv = tmp_path / "run.csv"
    cells = ("%load_ext engine.kernel\n%plot torch.arange(5.) ** 2\n"
             "for i in range(3): live(loss=torch.tensor(float(i)))\n"
             f"print(live.export({str(csv)!r}))\n")
    done = subprocess.run([sys.executable, "-m", "IPython", "--simple-prompt", "--colors=NoColor",
                           "--HistoryManager.enabled=False"], input=cells, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "IPYTHONDIR": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    assert "torch.arange(5.) ** 2 · (5,) float32 cpu · 0 … 16" in done.stdout, done.stdout
    assert csv.read_text().splitlines() == ["step,loss", "1,0.0", "2,1.0", "3,2.0"]


GOOD = {"shell_port": 50001, "iopub_port": 50002, "stdin_port": 50003, "control_port": 50004, "hb_port": 50005,
        "ip": "127.0.0.1", "key": "a-key", "transport": "tcp", "signature_scheme": "hmac-sha256",
        "kernel_name": "python3"}

MALFORMED = {
    "hb_port text": ({"hb_port": "abc"}, "hb_port is 'abc'"),
    "hb_port negative": ({"hb_port": -1}, "hb_port is -1"),
    "hb_port null": ({"hb_port": None}, "hb_port is null"),
    "port zero": ({"shell_port": 0}, "between 1 and 65535"),
    "port too big": ({"iopub_port": 70000}, "between 1 and 65535"),
    "port huge": ({"control_port": 10**30}, "between 1 and 65535"),
    "port bool": ({"stdin_port": True}, "between 1 and 65535"),
    "port float": ({"hb_port": 5.5}, "between 1 and 65535"),
    "transport bogus": ({"transport": "bogus"}, "transport is 'bogus', not tcp / ipc"),
    "transport number": ({"transport": 5}, "transport is 5"),
    "transport list": ({"transport": ["tcp"]}, "transport is [\"tcp\"]"),
    "ipc path too long": ({"transport": "ipc", "ip": "/tmp/" + "d" * 300}, "more than the"),
    "ipc path empty": ({"transport": "ipc", "ip": ""}, "ip is ''"),
    "ip not a host": ({"ip": "local host; rm -rf"}, "not a host name"),
    "ip number": ({"ip": 127}, "ip is 127, not text"),
    "key null": ({"key": None}, "key is null, not text"),
    "scheme unknown": ({"signature_scheme": "hmac-nope"}, "signature_scheme is 'hmac-nope'"),
    "scheme not hmac": ({"signature_scheme": "sha256"}, "signature_scheme is 'sha256'"),
    "missing port": ({"hb_port": ...}, "(no hb_port)"),
    # A lone surrogate is valid JSON but no UTF-8: a socket path, a key and a host are all encoded.
    "ipc ip not UTF-8": ({"transport": "ipc", "ip": "\ud800"}, "ip is '\\ud800', which UTF-8 cannot encode"),
    "key not UTF-8": ({"key": "\ud800"}, "key is '\\ud800', which UTF-8 cannot encode"),
    "scheme not UTF-8": ({"signature_scheme": "hmac-\ud800"}, "signature_scheme is 'hmac-\\ud800'"),
    # hashlib has it, but it is a hash of any length, which HMAC cannot use.
    "scheme shake": ({"signature_scheme": "hmac-shake_128"}, "signature_scheme is 'hmac-shake_128'"),
    "scheme not a hash": ({"signature_scheme": "hmac-file_digest"}, "signature_scheme is 'hmac-file_digest'"),
    "long ip elided": ({"ip": "h" * 300}, "ip is '" + "h" * 40 + "…', not a host name"),
}


def write_connection(folder: Path, name: str, changes: dict) -> Path:
    info = {**GOOD, **changes}
    path = folder / f"kernel-{name.replace(' ', '-')}.json"
    path.write_text(json.dumps({k: v for k, v in info.items() if v is not ...}))
    return path


@pytest.mark.parametrize("case", list(MALFORMED))
def test_a_malformed_connection_file_is_refused_before_any_socket(case, tmp_path, monkeypatch):
    import zmq

    from tui.kernel.attach import AttachError, read_connection

    def no_socket(*args, **kwargs):
        raise AssertionError("a socket was made for a malformed file")

    monkeypatch.setattr(zmq.Context, "socket", no_socket)
    changes, needle = MALFORMED[case]
    path = write_connection(tmp_path, case, changes)
    with pytest.raises(AttachError) as refused:
        read_connection(path)
    said = str(refused.value)
    assert "\n" not in said and "is not a Jupyter connection file" in said and needle in said, said


@pytest.mark.parametrize("content,needle", [
    (b"[" * 20_000 + b"]" * 20_000, "nested too deeply"),
    (b'{"a": ' * 5_000 + b"1" + b"}" * 5_000, "nested too deeply"),
    (json.dumps({**GOOD, "pad": "x" * 100_000}).encode(), "bigger than 64 KiB"),
    (b"\xff\xfe\x00garbage", "not JSON"),
    (b"[1, 2]", "not a JSON object"),
    (b'"kernel"', "not a JSON object"),
], ids=["deep list", "deep object", "too big", "not UTF-8", "a list", "a string"])
def test_a_connection_file_too_big_too_deep_or_not_an_object_is_refused(content, needle, tmp_path):
    from tui.kernel.attach import AttachError, read_connection

    path = tmp_path / "kernel-odd.json"
    path.write_bytes(content)
    with pytest.raises(AttachError, match=needle) as refused:
        read_connection(path)
    assert "\n" not in str(refused.value)


def bounded(call, seconds: float = 10):
    """call()'s result (or its exception), failing the test if it has not returned within `seconds`."""
    import threading

    done: list = []

    def run() -> None:
        try:
            done.append((True, call()))
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            done.append((False, exc))

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        pytest.fail(f"still waiting after {seconds} s")
    ok, value = done[0]
    if not ok:
        raise value
    return value


def test_a_fifo_or_a_folder_is_not_read(tmp_path):
    from tui.kernel.attach import AttachError, read_connection

    fifo = tmp_path / "kernel-fifo.json"
    os.mkfifo(fifo)  # reading it would wait for a writer for ever
    for path in (fifo, tmp_path):
        with pytest.raises(AttachError, match="not a regular file"):
            bounded(lambda path=path: read_connection(path))


def test_a_fifo_put_in_place_of_the_file_after_its_check_is_not_read(tmp_path, monkeypatch):
    """The file is checked to be a regular one, then opened: a FIFO swapped in between must not
    block the open, which sees what it opened."""
    from tui.kernel.attach import AttachError, read_connection

    regular = write_connection(tmp_path, "regular", {})
    fifo = tmp_path / "kernel-swapped.json"
    os.mkfifo(fifo)
    real_stat, before_swap = os.stat, os.stat(regular)

    def stat(path, *args, **kwargs):  # the check sees the file that was there before the swap
        return before_swap if os.fspath(path) == str(fifo) else real_stat(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", stat)
    with pytest.raises(AttachError, match="not a regular file"):
        bounded(lambda: read_connection(fifo))


def test_settings_the_kernel_client_refuses_are_one_line_not_a_traceback():
    """Past read_connection's checks (a file rewritten since), what jupyter_client or zmq refuse
    while the key is tried is an AttachError, which the command line says in one line."""
    from tui.kernel.attach import AttachError, accepts_key

    for changes in ({"signature_scheme": "hmac-shake_128"}, {"key": "\ud800"}, {"ip": "\ud800", "transport": "ipc"}):
        with pytest.raises(AttachError) as refused:
            bounded(lambda changes=changes: accepts_key({**GOOD, **changes}, timeout=0.2))
        said = str(refused.value)
        assert "\n" not in said and said.startswith("cannot use this connection file"), said


def test_a_hostile_file_in_the_runtime_folder_is_skipped_when_no_file_is_named(notebook_kernel, jupyter_dirs):
    """Copies of a live kernel's file, newer than it, with settings no client can use: passed
    over like any other file that is not a connection file, and the live kernel is found."""
    from tui.kernel.attach import find

    info = json.loads(Path(notebook_kernel.connection_file).read_text())
    for name, changes in {"ipc": {"transport": "ipc", "ip": "\ud800"}, "key": {"key": "\ud800"},
                          "shake": {"signature_scheme": "hmac-shake_128"}}.items():
        (jupyter_dirs / f"kernel-hostile-{name}.json").write_text(json.dumps({**info, **changes}))
    assert find("") == Path(notebook_kernel.connection_file)


def test_a_malformed_file_is_said_in_the_readers_language(tmp_path):
    from tui import i18n
    from tui.kernel.attach import AttachError, read_connection

    path = write_connection(tmp_path, "zh", {"hb_port": "abc"})
    i18n.set_language("zh")
    try:
        with pytest.raises(AttachError, match="不是 1 到 65535 之间的端口号"):
            read_connection(path)
    finally:
        i18n.set_language("en")


def test_heartbeat_check_of_an_address_zmq_refuses_does_not_hang():
    """A socket zmq refuses to connect is closed all the same: context.term() waits for ever on
    any socket left open."""
    from tui.kernel.attach import answering

    refused = {**GOOD, "transport": "ipc", "ip": "/tmp/" + "d" * 300}
    assert bounded(lambda: answering([refused, GOOD], timeout=0.2)) == [False, False]


@pytest.mark.parametrize("changes", [{"hb_port": "abc"}, {"transport": "bogus"}, {"hb_port": None},
                                     {"transport": "ipc", "ip": "/tmp/" + "d" * 300},
                                     {"transport": "ipc", "ip": "\ud800"}, {"key": "\ud800"},
                                     {"signature_scheme": "hmac-shake_128"}])
def test_existing_with_a_malformed_file_is_one_line_and_exit_2_at_once(changes, tmp_path):
    path = write_connection(tmp_path, "bad", changes)
    try:
        done = subprocess.run([sys.executable, "-m", "tui", "--existing", str(path)], capture_output=True,
                              text=True, timeout=15, env={**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path)})
    except subprocess.TimeoutExpired:
        pytest.fail(f"torchtui --existing hung on {changes}")
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("torchtui: error: "), done.stderr
    assert "is not a Jupyter connection file" in done.stderr


def wrong_key_copy(km, folder: Path) -> Path:
    info = json.loads(Path(km.connection_file).read_text())
    info["key"] = "not-" + info["key"]
    wrong = folder / "kernel-wrong-key.json"
    wrong.write_text(json.dumps(info))
    return wrong


def test_existing_with_a_wrong_key_is_one_line_and_exit_2(notebook_kernel, tmp_path):
    """The kernel answers its heartbeat (which is not signed) but drops every request signed with
    another key: without this check the app sits at "attaching…" until its wait runs out."""
    wrong = wrong_key_copy(notebook_kernel, tmp_path)
    try:
        done = subprocess.run([sys.executable, "-m", "tui", "--existing", str(wrong)], capture_output=True,
                              text=True, timeout=15)
    except subprocess.TimeoutExpired:
        pytest.fail("torchtui --existing waited on a kernel that does not take the file's key")
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert "does not answer requests signed with this file's key (a wrong key, or a kernel too busy to answer)" \
        in done.stderr and wrong.name in done.stderr, done.stderr
    from tui.kernel.attach import find

    assert find(notebook_kernel.connection_file) == Path(notebook_kernel.connection_file)  # the right key


def test_the_app_attaching_with_a_wrong_key_says_so_soon(notebook_kernel, tmp_path):
    """Past the command line's check (a test's make_app, or an owner that wrote a new key): the
    session gives up after a short wait and says why."""
    import asyncio

    from tui.kernel import events as ev
    from tui.kernel.attached import AttachedKernel

    wrong = wrong_key_copy(notebook_kernel, tmp_path)
    said: list = []

    async def attach() -> None:
        session = AttachedKernel(wrong, said.append)
        try:
            await asyncio.wait_for(session.start(), 30)
        finally:
            await session.shutdown()

    try:
        asyncio.run(attach())
    except TimeoutError:
        pytest.fail("still attaching after 30 s")
    ready = [e for e in said if isinstance(e, ev.KernelReady)]
    assert ready and ready[0].error and "does not answer requests signed with this file's key" in ready[0].error, said
    assert notebook_kernel.is_alive()


def attach_session(km, monkeypatch, wait_for_ready):
    """The KernelReady of a session attaching to `km` as to a kernel that does not answer
    kernel_info on its control channel (older than ipykernel 6.10), with the client's
    wait_for_ready replaced by `wait_for_ready(client, real, timeout)`."""
    import asyncio
    import queue

    from jupyter_client.asynchronous import AsyncKernelClient

    from tui.kernel import events as ev
    from tui.kernel.attached import AttachedKernel

    control = AttachedKernel._control

    async def no_control_info(self, msg_type, content, timeout=10.0):
        if msg_type == "kernel_info_request":
            raise queue.Empty
        return await control(self, msg_type, content, timeout)

    real = AsyncKernelClient.wait_for_ready

    async def waited(self, timeout=None):
        return await wait_for_ready(self, real, timeout)

    monkeypatch.setattr(AttachedKernel, "_control", no_control_info)
    monkeypatch.setattr(AsyncKernelClient, "wait_for_ready", waited)
    said: list = []

    async def attach() -> None:
        session = AttachedKernel(Path(km.connection_file), said.append)
        try:
            await asyncio.wait_for(session.start(), 60)
        finally:
            await session.shutdown()

    asyncio.run(attach())
    return [e for e in said if isinstance(e, ev.KernelReady)][0]


def test_an_attached_kernel_that_answers_only_on_its_shell_is_waited_for_once(notebook_kernel, monkeypatch):
    waits: list = []

    async def wait_for_ready(client, real, timeout):
        waits.append(timeout)
        return await real(client, timeout=timeout)

    ready = attach_session(notebook_kernel, monkeypatch, wait_for_ready)
    assert not ready.error, ready
    assert len(waits) == 1, waits
    assert notebook_kernel.is_alive()


def test_an_attached_kernel_that_dies_while_attaching_is_not_said_to_have_a_wrong_key(notebook_kernel, monkeypatch):
    """The key was checked (it answered a request signed with it): a kernel that dies before its
    shell answers is said as such, not as a wrong key."""
    async def wait_for_ready(client, real, timeout):
        raise RuntimeError("Kernel died before replying to kernel_info")

    ready = attach_session(notebook_kernel, monkeypatch, wait_for_ready)
    assert ready.error and "Kernel died before replying" in ready.error and "key" not in ready.error, ready
