"""Time to first frame of `torchtui` against the smallest Textual app, in tmux, side by side.

Runs A (torchtui, until "Playground" shows) and B (a Static and a Footer, until "HELLO-READY"
shows) in turn, A B A B ..., and prints the median of each and the median of the pair ratios.

    python bench/ttff.py --runs 7
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

from term import Terminal, median, require_tmux

HERE = Path(__file__).resolve().parent


def once(command: str, marker: str, env: dict) -> float:
    with Terminal(command, 80, 24, env) as term:
        seconds = term.wait(marker, timeout=30)
    if seconds is None:
        raise SystemExit(f"{marker!r} never showed for {command!r}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    require_tmux()
    exe = shutil.which("torchtui") or f"{sys.executable} -m tui"
    state = tempfile.mkdtemp()
    env = {"XDG_STATE_HOME": state, "XDG_CONFIG_HOME": state, "PATH": os.environ.get("PATH", "")}
    a_cmd, b_cmd = exe, f"{sys.executable} {HERE / 'baseline_apps.py'} hello"
    once(a_cmd, "Playground", env)  # warm the file caches for both
    once(b_cmd, "HELLO-READY", env)
    a, b = [], []
    for _ in range(args.runs):
        a.append(once(a_cmd, "Playground", env))
        b.append(once(b_cmd, "HELLO-READY", env))
    ratios = [x / y for x, y in zip(a, b, strict=True)]
    print(f"torchtui        median {median(a):.3f} s  (min {min(a):.3f}, max {max(a):.3f})")
    print(f"bare Textual    median {median(b):.3f} s  (min {min(b):.3f}, max {max(b):.3f})")
    print(f"ratio torchtui / bare Textual: median {median(ratios):.2f}  (target <= 1.10)")


if __name__ == "__main__":
    main()
