"""Where the kernel's files go and how it is started: ipc sockets (no TCP port) in a private
runtime folder, our own kernel spec (the app's Python, torchtui's extension, safe completion),
and a log file for what the kernel process writes to its own stdout and stderr."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from engine import paths

MAX_SOCKET_PATH = 100  # a Unix socket path is limited to ~107 bytes


def runtime_dir() -> Path:
    """$XDG_RUNTIME_DIR/torchtui, else the state folder; private (0700)."""
    base = os.environ.get("XDG_RUNTIME_DIR")
    folder = Path(base) / paths.APP if base and os.path.isabs(base) else paths.state_dir(create=False) / "runtime"
    try:
        return paths.ensure_private_dir(folder)
    except OSError:  # a read-only or broken state folder: the kernel's files go to a private temp folder
        return Path(tempfile.mkdtemp(prefix=own_temp_prefix()))


def sweep_stale(folder: Path) -> None:
    """Remove the files of kernels whose app is gone (killed, so it could not clean up)."""
    for path in folder.glob("kernel-*"):
        try:
            pid = int(path.name.split("-")[1])
        except (IndexError, ValueError):
            continue
        if pid != os.getpid() and not paths.process_alive(pid):
            try:
                path.unlink()
            except OSError:
                pass


def own_temp_prefix() -> str:
    return f"torchtui-{os.getpid()}-"


def sweep_stale_temp_folders() -> None:
    """Remove the temporary kernel folders of apps that are gone (each is named after its app's pid)."""
    for folder in Path(tempfile.gettempdir()).glob("torchtui-*"):
        if folder.name.startswith(own_temp_prefix()):
            continue  # this app's own, maybe still empty
        try:
            app = int(folder.name.split("-")[1])
        except (IndexError, ValueError):
            continue
        # A living app's folder stays even when empty: its kernel's files may be about to be written.
        if paths.process_alive(app) or not folder.is_dir() or folder.owner() != Path.home().owner():
            continue
        sweep_stale(folder)
        try:
            folder.rmdir()  # only once it is empty
        except OSError:
            pass


def connection_paths() -> tuple[Path, Path, str]:
    """(connection file, ipc socket base, transport) for a new kernel of this process."""
    tag = f"kernel-{os.getpid()}-{os.urandom(3).hex()}"
    if os.name != "posix":
        return runtime_dir() / f"{tag}.json", Path("127.0.0.1"), "tcp"
    folder = runtime_dir()
    sweep_stale(folder)
    sweep_stale_temp_folders()
    if len(str(folder / tag)) + 4 > MAX_SOCKET_PATH:
        folder = Path(tempfile.mkdtemp(prefix=own_temp_prefix()))  # 0700 by construction
    return folder / f"{tag}.json", folder / f"{tag}-ipc", "ipc"


def kernel_argv() -> list[str]:
    return [sys.executable, "-m", "engine.kernel.launcher", "-f", "{connection_file}",
            "--IPKernelApp.extensions=engine.kernel",
            # the kernel's own chatter (its banner, debugger warnings) goes to its log only
            "--IPKernelApp.quiet=True",
            "--HistoryManager.enabled=False"]


def kernel_env() -> dict[str, str]:
    """The kernel's environment: the app's, marked as torchtui's own kernel. A test runner's marker
    is left out, so that the kernel behaves as it does for users (ipykernel stops forwarding
    writes to file descriptors 1 and 2, os.system's output say, when it sees one)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    env["TORCHTUI_KERNEL"] = "1"
    return env


def kernel_spec_manager():
    """A spec manager that always gives our spec: a user's own 'python3' kernel spec (another
    environment, say) must not be what the app starts."""
    from jupyter_client.kernelspec import KernelSpec, KernelSpecManager

    class OwnSpec(KernelSpecManager):
        def get_kernel_spec(self, kernel_name):
            return KernelSpec(argv=kernel_argv(), display_name="torchtui", language="python",
                              interrupt_mode="signal", resource_dir="")

    return OwnSpec()


def open_log():
    """The kernel's log file (0600), appended to; /dev/null if the state folder is not writable."""
    try:
        folder = paths.state_dir()
        path = folder / "kernel.log"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        return os.fdopen(fd, "ab", buffering=0)
    except OSError:
        return open(os.devnull, "wb")
