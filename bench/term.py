"""A tmux-driven terminal for the benchmarks: start a program, type, and wait for text on screen."""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid


def require_tmux() -> None:
    if shutil.which("tmux") is None:
        raise SystemExit("these benchmarks need tmux")


class Terminal:
    def __init__(self, command: str, width: int = 80, height: int = 24, env: dict | None = None) -> None:
        self.name = "bench-" + uuid.uuid4().hex[:8]
        flags = []
        for key, value in (env or {}).items():
            flags += ["-e", f"{key}={value}"]
        args = ["tmux", "new-session", "-d", "-s", self.name, "-x", str(width), "-y", str(height), *flags, command]
        self.started = time.perf_counter()
        if subprocess.run(args, capture_output=True).returncode != 0:
            # The tmux server may be shutting down after the previous session ended: start anew.
            time.sleep(0.3)
            self.started = time.perf_counter()
            subprocess.run(args, check=True)

    def screen(self) -> str:
        return subprocess.run(["tmux", "capture-pane", "-p", "-t", self.name], capture_output=True,
                              text=True).stdout

    def wait(self, text: str, timeout: float = 60.0, poll: float = 0.005) -> float | None:
        """Seconds since start when `text` shows, or None on timeout."""
        end = time.perf_counter() + timeout
        while time.perf_counter() < end:
            if text in self.screen():
                return time.perf_counter() - self.started
            time.sleep(poll)
        return None

    def time_until(self, text: str, action, timeout: float = 30.0, poll: float = 0.002) -> float | None:
        """Run action(), then seconds until `text` shows (None on timeout)."""
        start = time.perf_counter()
        action()
        end = start + timeout
        while time.perf_counter() < end:
            if text in self.screen():
                return time.perf_counter() - start
            time.sleep(poll)
        return None

    def type(self, text: str) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.name, "-l", text], check=True)

    def keys(self, *keys: str) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.name, *keys], check=True)

    def pid(self) -> int:
        """The process running in the pane (the app)."""
        out = subprocess.run(["tmux", "display-message", "-p", "-t", self.name, "#{pane_pid}"],
                             capture_output=True, text=True).stdout
        return int(out)

    def descendants(self, needle: str = "") -> list[int]:
        """Processes below the app whose command line contains `needle` (its kernel, say)."""
        # -ww: whole command lines. Without it ps cuts each line at $COLUMNS, which GNU readline
        # sets to 80 for the child processes of any Python that imported it (pytest does): with
        # long process ids and a long checkout path, the needle fell past the cut.
        table = subprocess.run(["ps", "-ww", "-eo", "pid=,ppid=,args="], capture_output=True, text=True).stdout
        children: dict[int, list[tuple[int, str]]] = {}
        for line in table.splitlines():
            pid, ppid, args = line.split(None, 2)
            children.setdefault(int(ppid), []).append((int(pid), args))
        found, todo = [], [self.pid()]
        while todo:
            for pid, args in children.get(todo.pop(), []):
                todo.append(pid)
                if needle in args:
                    found.append(pid)
        return found

    def close(self) -> None:
        subprocess.run(["tmux", "kill-session", "-t", self.name], capture_output=True)

    def __enter__(self) -> Terminal:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
