"""Launch to the first value: `torchtui`, with `torch.ones(2)` typed the moment the first frame
shows, until `tensor([1., 1.])` is on screen, against `python -c "import torch;
print(torch.ones(2))"` in the same terminal. Runs alternate, A B A B ...

    python bench/first_value.py --runs 5
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile

from term import Terminal, median, require_tmux

VALUE = "tensor([1., 1.])"


def torchtui_once(exe: str, env: dict) -> float:
    with Terminal(exe, 80, 24, env) as term:
        if term.wait("Playground", 30) is None:
            raise SystemExit("torchtui never drew its first frame")
        term.type("torch.ones(2)")
        term.keys("Enter")
        seconds = term.wait(VALUE, 60)
    if seconds is None:
        raise SystemExit("the value never showed")
    return seconds


def plain_once(env: dict) -> float:
    # `; sleep 5` keeps the pane's text on screen while it is read
    with Terminal(f"{sys.executable} -c 'import torch; print(torch.ones(2))'; sleep 5", 80, 24, env) as term:
        seconds = term.wait(VALUE, 60)
    if seconds is None:
        raise SystemExit("plain python never printed the value")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    require_tmux()
    exe = shutil.which("torchtui") or f"{sys.executable} -m tui"
    state = tempfile.mkdtemp()
    env = {"XDG_STATE_HOME": state, "XDG_CONFIG_HOME": state, "PATH": os.environ.get("PATH", "")}
    torchtui_once(exe, env)  # warm the file caches for both
    plain_once(env)
    a, b = [], []
    for _ in range(args.runs):
        a.append(torchtui_once(exe, env))
        b.append(plain_once(env))
    print(f"torchtui, launch to value    median {median(a):.3f} s  (min {min(a):.3f}, max {max(a):.3f})")
    print(f"python -c 'import torch ...' median {median(b):.3f} s  (min {min(b):.3f}, max {max(b):.3f})")
    print(f"difference: median {median(a) - median(b):+.3f} s  (target <= +1.0 s)")


if __name__ == "__main__":
    main()
