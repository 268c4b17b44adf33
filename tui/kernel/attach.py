"""Finding a running Jupyter kernel to attach to (`torchtui --existing [FILE]`), and telling a
live one from the connection file of a dead one, before the app starts."""

from __future__ import annotations

import json
import time
from pathlib import Path

NEEDED = ("transport", "ip", "key", "shell_port", "iopub_port", "stdin_port", "control_port", "hb_port")
PING_S = 1.5  # how long a kernel's heartbeat has to answer
NEWEST_TRIED = 20  # without a file named, this many of the newest connection files are pinged

# Run on the kernel (as a user expression: no output, nothing left in the namespace) to load
# torchtui's engine there; its value is the engine's version.
ATTACH_EXPRESSION = "__import__('engine.kernel.extension', fromlist=['attach']).attach(get_ipython())"


class AttachError(Exception):
    """Why there is nothing to attach to, in one line."""


def runtime_dir() -> Path:
    from jupyter_core.paths import jupyter_runtime_dir

    return Path(jupyter_runtime_dir())


def read_connection(path: Path) -> dict:
    """The connection file's contents, checked to be one."""
    try:
        info = json.loads(path.read_text())
    except FileNotFoundError:
        raise AttachError(f"no connection file {str(path)!r}") from None
    except OSError as exc:
        raise AttachError(f"cannot read {str(path)!r}: {exc.strerror or exc}") from None
    except ValueError:
        raise AttachError(f"{str(path)!r} is not a Jupyter connection file (not JSON)") from None
    missing = [key for key in NEEDED if not isinstance(info, dict) or key not in info]
    if missing:
        raise AttachError(f"{str(path)!r} is not a Jupyter connection file (no {missing[0]})")
    return info


def heartbeat_url(info: dict) -> str:
    if info["transport"] == "ipc":
        return f"ipc://{info['ip']}-{info['hb_port']}"
    return f"{info['transport']}://{info['ip']}:{info['hb_port']}"


def answering(infos: list[dict], timeout: float = PING_S) -> list[bool]:
    """Which of these kernels answer their heartbeat within `timeout` (pinged all at once)."""
    import zmq

    context = zmq.Context()
    sockets = []
    try:
        poller = zmq.Poller()
        for info in infos:
            socket = context.socket(zmq.REQ)
            socket.linger = 0
            socket.connect(heartbeat_url(info))
            socket.send(b"ping")
            poller.register(socket, zmq.POLLIN)
            sockets.append(socket)
        alive: set = set()
        deadline = timeout * 1000
        start = time.monotonic()
        while len(alive) < len(sockets):
            left = deadline - (time.monotonic() - start) * 1000
            if left <= 0:
                break
            for socket, _ in poller.poll(int(left)):
                socket.recv()
                alive.add(socket)
                poller.unregister(socket)
        return [socket in alive for socket in sockets]
    finally:
        for socket in sockets:
            socket.close(linger=0)
        context.term()


def find(name: str) -> Path:
    """The connection file to attach to: `name` as a path, or a file (or part of a name) in
    Jupyter's runtime folder; with no name, the newest kernel there that answers."""
    folder = runtime_dir()
    if name:
        from jupyter_client import find_connection_file

        try:
            path = Path(find_connection_file(name))
        except OSError:
            raise AttachError(f"no connection file {name!r} (looked in the current folder and {folder})") from None
        info = read_connection(path)
        if not answering([info])[0]:
            raise AttachError(f"the kernel of {path.name} does not answer: it is not running any more")
        return path
    try:
        files = sorted(folder.glob("kernel-*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
    except OSError:
        files = []
    candidates = []
    for path in files[:NEWEST_TRIED]:
        try:
            candidates.append((path, read_connection(path)))
        except AttachError:
            continue
    if not candidates:
        raise AttachError(f"no running Jupyter kernel found in {folder}: start one (a notebook, "
                          "or `jupyter console`), or name its connection file")
    for (path, _), alive in zip(candidates, answering([info for _, info in candidates]), strict=True):
        if alive:
            return path
    raise AttachError(f"none of the {len(candidates)} newest kernels in {folder} answers: they are not "
                      "running any more")



def short_name(path: Path, room: int = 24) -> str:
    """A connection file's name as the status line shows it: Jupyter's are `kernel-<uuid>.json`,
    and the first hex digits of the uuid tell kernels apart."""
    name = path.name
    return name if len(name) <= room else name[:15] + "…"
