"""Start an ipykernel whose every socket is a Unix-domain one.

The Jupyter channels take ipc from the connection file. One more socket is ipykernel's own: the
pipe through which forked child processes (multiprocessing.Process, fork-started DataLoader
workers) send what they print. ipykernel binds it to a random TCP port on 127.0.0.1; here it is
put beside the connection file instead, so the kernel listens on no port at all. Both ends live
in ipykernel.iostream.IOPubThread (ipykernel 7): if they change shape, ipykernel's own pipe stays.

    python -m engine.kernel.launcher -f CONNECTION_FILE [ipykernel options]
"""

from __future__ import annotations

import atexit
import os
import sys


def _pipe_path() -> str | None:
    if "-f" not in sys.argv:
        return None
    folder = os.path.dirname(os.path.abspath(sys.argv[sys.argv.index("-f") + 1]))
    app = os.environ.get("JPY_PARENT_PID", "0")
    # named after the app's pid: the app sweeps away files of apps that are gone
    return os.path.join(folder, f"kernel-{app}-pipe-{os.getpid()}")


def use_unix_pipe() -> bool:
    import zmq
    from ipykernel import iostream

    thread = getattr(iostream, "IOPubThread", None)
    path = _pipe_path()
    if os.name != "posix" or path is None or not all(
            hasattr(thread, name) for name in ("_setup_pipe_in", "_setup_pipe_out", "_handle_pipe_msg")):
        return False
    address = f"ipc://{path}"

    def setup_pipe_in(self) -> None:
        from zmq.eventloop.zmqstream import ZMQStream

        self._pipe_uuid = os.urandom(16)
        pipe_in = self.socket.context.socket(zmq.PULL)
        pipe_in.linger = 0
        try:
            pipe_in.bind(address)
        except zmq.ZMQError:
            pipe_in.close()
            self._pipe_flag = False  # as ipykernel does: children's output is then not forwarded
            return
        os.chmod(path, 0o600)
        owner = os.getpid()

        def remove() -> None:
            if os.getpid() == owner and os.path.exists(path):  # not in a forked child
                os.unlink(path)

        atexit.register(remove)
        self._pipe_in = ZMQStream(pipe_in, self.io_loop)
        self._pipe_in.on_recv(self._handle_pipe_msg)

    def setup_pipe_out(self):
        ctx = zmq.Context()
        pipe_out = ctx.socket(zmq.PUSH)
        pipe_out.linger = 3000  # 3 s, as ipykernel gives a child's last words
        pipe_out.connect(address)
        return ctx, pipe_out

    assert thread is not None  # (checked above)
    thread._setup_pipe_in = setup_pipe_in
    thread._setup_pipe_out = setup_pipe_out
    return True


def die_with_the_app() -> None:
    """On Linux, ask the kernel to be killed the moment the app that started it dies.

    ipykernel's own parent poller is a thread: a cell stuck in one C call that holds the GIL
    (`sum(range(10**10))`) never lets it run, and the orphaned kernel would burn a core for
    minutes. The kernel's state dies with the app either way: no one could reach it again."""
    parent = os.environ.get("JPY_PARENT_PID")
    if not sys.platform.startswith("linux") or not parent or not parent.isdigit():
        return
    import ctypes
    import signal

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != int(parent):  # the app died before the request took effect
        os._exit(1)


def take_the_group_along() -> None:
    """On Linux, start a small reaper (engine/kernel/reaper.py) that kills the kernel's whole
    process group once the kernel is gone, however it went (killed with its app, by a restart,
    crashed): processes a cell started (`subprocess.Popen`, `os.fork`, a server it forgot) would
    otherwise outlive it. The kernel leads its own process group (jupyter_client starts it in a
    session of its own) and children of cells join it."""
    if not sys.platform.startswith("linux") or os.getpgid(0) != os.getpid():
        return  # not a group of its own: killing it would take someone else's processes along
    kernel = str(os.getpid())
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "reaper.py")
    try:
        reaper = os.fork()  # (before anything is loaded or any thread runs: a cheap, safe fork)
    except OSError:
        return
    if reaper:
        # Reaped when it ends (a kernel shutting down asks it to): a child left a zombie would be
        # waited on by ipykernel, which ends its children before it exits, until it is killed.
        import threading

        def reap() -> None:
            try:
                os.waitpid(reaper, 0)
            except OSError:  # (a cell's os.wait() took it first)
                pass

        threading.Thread(target=reap, name="torchtui-reaper-wait", daemon=True).start()
        return
    try:
        os.execv(sys.executable, [sys.executable, "-S", "-E", script, kernel])
    finally:
        os._exit(0)  # (only if exec failed: the kernel runs on without a reaper)


def main() -> None:
    die_with_the_app()
    take_the_group_along()
    use_unix_pipe()
    # ipykernel (and zmq, in use_unix_pipe) load only once the kernel is tied to the app: a kernel
    # whose app died during its slow imports ends at once instead of after them
    from ipykernel.kernelapp import launch_new_instance

    launch_new_instance()


if __name__ == "__main__":
    main()
