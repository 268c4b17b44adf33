"""Memory: the app's process (no torch) and its kernel, against the last single-process version of
torchtui (UI and torch in one process), each after the same cell, in tmux, in one run.

The single-process version is taken from git (`--before`, default the last commit before the
kernel process) into a temporary folder and run with this environment's packages.

    python bench/memory.py [--before REV]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from term import Terminal, require_tmux

HERE = Path(__file__).resolve().parent
CELL = "x = torch.randn(1000, 1000); y = x @ x; y.sum()"
LAST_SINGLE_PROCESS = "039a0f0"


def memory_mb(pid: int) -> tuple[float, float]:
    """(RSS, PSS) of a process in MiB; PSS shares libraries fairly between processes."""
    rss = pss = 0.0
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Rss:"):
            rss = int(line.split()[1]) / 1024
        elif line.startswith("Pss:"):
            pss = int(line.split()[1]) / 1024
    return rss, pss


def measure(command: str, env: dict) -> list[tuple[str, float, float]]:
    with Terminal(command, 80, 24, env) as term:
        if term.wait("loaded", 90) is None:
            raise SystemExit(f"{command!r} never loaded torch:\n{term.screen()}")
        term.type(CELL)
        term.keys("Enter")
        if term.wait("Out[1]", 60) is None:
            raise SystemExit("the cell never finished")
        time.sleep(1.0)
        rows = [("app", *memory_mb(term.pid()))]
        rows += [("kernel", *memory_mb(pid)) for pid in term.descendants("engine.kernel.launcher")]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", default=LAST_SINGLE_PROCESS, help="git revision of the single-process version")
    args = parser.parse_args()
    require_tmux()
    state = tempfile.mkdtemp()
    env = {"XDG_STATE_HOME": state, "XDG_CONFIG_HOME": state, "PATH": os.environ.get("PATH", "")}
    old = Path(tempfile.mkdtemp())
    archive = subprocess.run(["git", "-C", str(HERE.parent), "archive", args.before], capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(old)], input=archive.stdout, check=True)
    exe = shutil.which("torchtui") or f"{sys.executable} -m tui"
    now = measure(exe, env)
    before = measure(f"env PYTHONPATH={old} {sys.executable} -m tui", env)
    shutil.rmtree(old, ignore_errors=True)
    for name, rows in (("torchtui now (app + kernel)", now), (f"single process ({args.before})", before)):
        for role, rss, pss in rows:
            print(f"{name:<32} {role:<7} RSS {rss:7.1f} MiB  PSS {pss:7.1f} MiB")
    app_rss = now[0][1]
    total_now, total_before = sum(r[1] for r in now), sum(r[1] for r in before)
    pss_now, pss_before = sum(r[2] for r in now), sum(r[2] for r in before)
    print(f"app process without torch: RSS {app_rss:.1f} MiB  (target <= 150)")
    print(f"app + kernel: RSS {total_now:.1f} MiB vs {total_before:.1f} MiB single process "
          f"({total_now - total_before:+.1f}; target <= +100); PSS {pss_now:.1f} vs {pss_before:.1f} "
          f"({pss_now - pss_before:+.1f})")


if __name__ == "__main__":
    main()
