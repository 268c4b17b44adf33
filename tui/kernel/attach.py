"""Finding a running Jupyter kernel to attach to (`torchtui --existing [FILE]`), and telling a
live one from the connection file of a dead one, before the app starts."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import sys
import time
from pathlib import Path

from engine.paths import UnsafeFile, read_regular
from engine.words import shown
from tui.i18n import t

NEEDED = ("transport", "ip", "key", "shell_port", "iopub_port", "stdin_port", "control_port", "hb_port")
PORTS = ("shell_port", "iopub_port", "stdin_port", "control_port", "hb_port")
TRANSPORTS = ("tcp", "ipc")
PING_S = 1.5  # how long a kernel's heartbeat has to answer
KEY_S = 2.0  # how long a kernel that answers its heartbeat has to answer a request signed with the key
NEWEST_TRIED = 20  # without a file named, this many of the newest connection files are pinged
MAX_FILE_BYTES = 64 * 1024  # Jupyter's are about 300 bytes
# The longest Unix socket path: sun_path less its closing NUL (108 bytes on Linux, 104 on macOS
# and the BSDs). zmq refuses a longer ipc address; refused here, before any socket is made.
MAX_IPC_PATH = (104 if sys.platform == "darwin" or "bsd" in sys.platform else 108) - 1
HOST = re.compile(r"[A-Za-z0-9._:%-]{1,253}")  # a host name, an IPv4 or IPv6 address

# Run on the kernel (as a user expression: no output, nothing left in the namespace) to load
# torchtui's engine there; its value is the engine's version.
ATTACH_EXPRESSION = "__import__('engine.kernel.extension', fromlist=['attach']).attach(get_ipython())"


class AttachError(Exception):
    """Why there is nothing to attach to, in one line."""


def runtime_dir() -> Path:
    from jupyter_core.paths import jupyter_runtime_dir

    return Path(jupyter_runtime_dir())


def read_connection(path: Path) -> dict:
    """The connection file's contents, checked to be one that can be connected to: every check
    that needs no socket is made here, before any socket is made (a malformed file is one line and
    exit 2, never a hang or a traceback)."""

    def bad(why: str, /, **values: object) -> AttachError:
        return AttachError(t("attach.bad_file", path=repr(str(path)), why=t(why, **values)))

    try:  # a FIFO would block the read and /dev/zero never end it: neither is read
        raw = read_regular(path, MAX_FILE_BYTES)
    except FileNotFoundError:
        raise AttachError(t("attach.missing", path=repr(str(path)))) from None
    except UnsafeFile as exc:
        if exc.said.code == "err.path.too_big":
            raise bad("attach.why.size", most=f"{MAX_FILE_BYTES // 1024} KiB") from None
        raise bad("attach.why.regular") from None
    except OSError as exc:
        raise AttachError(t("attach.unreadable", path=repr(str(path)), error=exc.strerror or exc)) from None
    try:
        info = json.loads(raw)
    except RecursionError:  # [[[[…]]]] thousands deep
        raise bad("attach.why.nested") from None
    except ValueError:  # (UnicodeDecodeError too)
        raise bad("attach.why.json") from None
    if not isinstance(info, dict):
        raise bad("attach.why.object")
    missing = [key for key in NEEDED if key not in info]
    if missing:
        raise bad("attach.why.missing", key=missing[0])
    transport = info["transport"]
    if transport not in TRANSPORTS:
        raise bad("attach.why.transport", value=shown(transport), choices=" / ".join(TRANSPORTS))
    for key in PORTS:
        port = info[key]
        if type(port) is not int or not 1 <= port <= 65535:  # (not bool, not 1.5, not "abc")
            raise bad("attach.why.port", key=key, value=shown(port))
    for key in ("ip", "key", "signature_scheme"):
        if key in info and not isinstance(info[key], str):
            raise bad("attach.why.text", key=key, value=shown(info[key]))
        try:  # JSON may hold a lone surrogate; a socket path, a key and a host are all encoded
            info.get(key, "").encode("utf-8")
        except UnicodeEncodeError:
            raise bad("attach.why.utf8", key=key, value=shown(info[key])) from None
    ip = info["ip"]
    if transport == "tcp" and not HOST.fullmatch(ip):
        raise bad("attach.why.host", value=shown(ip))
    if transport == "ipc":
        if not ip or "\0" in ip:
            raise bad("attach.why.host", value=shown(ip))
        longest = max(len(os.fsencode(f"{ip}-{info[key]}")) for key in PORTS)
        if longest > MAX_IPC_PATH:
            raise bad("attach.why.ipc_path", length=longest, most=MAX_IPC_PATH)
    scheme = info.get("signature_scheme", "hmac-sha256")
    if not _signs(scheme[len("hmac-"):] if scheme.startswith("hmac-") else ""):
        raise bad("attach.why.scheme", value=shown(scheme))
    return info


def _signs(digest: str) -> bool:
    """Whether jupyter_client can sign with hmac-`digest`: it takes hashlib's attribute of that
    name as HMAC's digestmod. hashlib has hashes HMAC cannot use (shake_128, of any length) and
    callables that are no hash at all (hashlib.new)."""
    if digest not in hashlib.algorithms_available:
        return False
    try:
        hmac.new(b"", b"", digestmod=getattr(hashlib, digest)).hexdigest()
    except Exception:  # noqa: BLE001 - whatever HMAC raises, that scheme cannot sign
        return False
    return True


def url(info: dict, channel: str) -> str:
    port = info[f"{channel}_port"]
    if info["transport"] == "ipc":
        return f"ipc://{info['ip']}-{port}"
    return f"{info['transport']}://{info['ip']}:{port}"


def heartbeat_url(info: dict) -> str:
    return url(info, "hb")


def answering(infos: list[dict], timeout: float = PING_S) -> list[bool]:
    """Which of these kernels answer their heartbeat within `timeout` (pinged all at once)."""
    import zmq

    context = zmq.Context()
    sockets = []
    alive: set = set()
    try:
        poller = zmq.Poller()
        for info in infos:
            socket = context.socket(zmq.REQ)
            socket.linger = 0
            sockets.append(socket)  # closed below whatever happens next: term() waits for every socket
            try:
                socket.connect(heartbeat_url(info))
            except zmq.ZMQError:  # an address zmq refuses: that kernel does not answer
                continue
            socket.send(b"ping")
            poller.register(socket, zmq.POLLIN)
        waiting = len(poller.sockets)
        end = time.monotonic() + timeout
        while len(alive) < waiting:
            left = end - time.monotonic()
            if left <= 0:
                break
            for socket, _ in poller.poll(int(left * 1000) + 1):
                socket.recv()
                alive.add(socket)
                poller.unregister(socket)
        return [socket in alive for socket in sockets]
    finally:
        for socket in sockets:
            socket.close(linger=0)
        context.term()


def accepts_key(info: dict, timeout: float = KEY_S) -> bool:
    """Whether the kernel answers a kernel_info request signed with the file's key. A kernel drops
    a message whose signature is wrong without a word, so a wrong key is only seen as silence: the
    request goes on the control channel (answered even while a cell runs) and the shell channel
    (for kernels that answer only there), and any answer within `timeout` will do. A kernel busy
    on both (an older one running a long cell) is silent too. Settings the client cannot use are
    an AttachError, never a traceback: read_connection refuses those it knows of, and this is the
    net for the rest (a file rewritten since, a jupyter_client that checks more)."""
    import zmq
    from jupyter_client.session import Session

    context = zmq.Context()
    sockets = []
    try:
        try:
            session = Session(key=info["key"].encode(),
                              signature_scheme=info.get("signature_scheme", "hmac-sha256"))
            poller = zmq.Poller()
            for channel in ("control", "shell"):
                socket = context.socket(zmq.DEALER)
                socket.linger = 0
                sockets.append(socket)  # closed below whatever happens next: term() waits for every socket
                try:
                    socket.connect(url(info, channel))
                except zmq.ZMQError:
                    continue
                session.send(socket, "kernel_info_request", {})
                poller.register(socket, zmq.POLLIN)
        except Exception as exc:  # noqa: BLE001 - said in one line, like a malformed file
            error = " ".join(f"{type(exc).__name__}: {exc}".split())  # one line
            raise AttachError(t("attach.unusable", error=error)) from None
        end = time.monotonic() + timeout
        while poller.sockets and (left := end - time.monotonic()) > 0:
            for socket, _ in poller.poll(int(left * 1000) + 1):
                frames = socket.recv_multipart()
                try:  # signed with the same key, or it is not the kernel we asked
                    _, message = session.feed_identities(frames)
                    session.deserialize(message)
                except Exception:  # noqa: BLE001 - a reply that does not verify is no answer
                    continue
                return True
        return False
    finally:
        for socket in sockets:
            socket.close(linger=0)
        context.term()


def find(name: str) -> Path:
    """The connection file to attach to: `name` as a path, or a file (or part of a name) in
    Jupyter's runtime folder; with no name, the newest kernel there that answers. Its kernel must
    answer its heartbeat, and requests signed with the file's key."""
    folder = runtime_dir()
    if name:
        from jupyter_client import find_connection_file

        try:
            path = Path(find_connection_file(name))
        except OSError:
            raise AttachError(t("attach.missing_named", name=repr(name), folder=folder)) from None
        info = read_connection(path)
        if not answering([info])[0]:
            raise AttachError(t("attach.dead", name=path.name))
        return _keyed(path, info)
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
        raise AttachError(t("attach.none_found", folder=folder))
    for (path, info), alive in zip(candidates, answering([info for _, info in candidates]), strict=True):
        if alive:
            return _keyed(path, info)
    raise AttachError(t("attach.none_answer", count=len(candidates), folder=folder))


def _keyed(path: Path, info: dict) -> Path:
    if not accepts_key(info):
        raise AttachError(t("attach.wrong_key", name=path.name))
    return path


def short_name(path: Path, room: int = 24) -> str:
    """A connection file's name as the status line shows it: Jupyter's are `kernel-<uuid>.json`,
    and the first hex digits of the uuid tell kernels apart."""
    name = path.name
    return name if len(name) <= room else name[:15] + "…"
