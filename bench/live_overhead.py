"""What live() costs a loop, side by side with the same loop without it, in one run.

1. A tight loop: `live(loss=t)` with a 0-dim tensor, 200,000 calls, against the same loop with the
   call left out. Target: <= 5 µs per call.
2. The seed's training loop (100 samples, batch 16, 100 epochs of nn.Linear + MSELoss + SGD), with
   `live(loss=loss)` after each step, against the loop without it. Target: <= 2% slower.

live() runs as in the kernel: its thread reads the queued values ten times a second and hands the
new points to `emit`, here one that serialises them as the comm would (encoded and made JSON).
Runs alternate (with, without, with, ...); the seed's loop is compared pair by pair.

    python bench/live_overhead.py [--repeats 21]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from engine.kernel.live import Live  # noqa: E402
from engine.protocol import Event, encode_event  # noqa: E402

TIGHT_CALLS = 200_000


def make_live() -> Live:
    sent = []

    def emit(event: Event) -> None:
        sent.append(len(json.dumps(encode_event(event))))

    live = Live(emit)
    live.run_now = 1
    return live


def tight(live: Live | None) -> float:
    t = torch.tensor(0.5)
    start = time.perf_counter()
    if live is None:
        for _ in range(TIGHT_CALLS):
            pass
    else:
        for _ in range(TIGHT_CALLS):
            live(loss=t)
    return time.perf_counter() - start


def seed_loop(live: Live | None) -> float:
    from sklearn.datasets import make_regression
    from torch.utils.data import DataLoader, TensorDataset

    x, y = make_regression(n_samples=100, n_features=1, noise=10, bias=1.5, random_state=0)
    x = torch.tensor(x, dtype=torch.float32)
    y = torch.tensor(y, dtype=torch.float32)
    torch.manual_seed(0)
    loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True)
    model = torch.nn.Linear(1, 1)
    loss_fn = torch.nn.MSELoss()
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    start = time.perf_counter()
    for _ in range(100):
        for bx, by in loader:
            loss = loss_fn(model(bx), by.reshape(-1, 1))
            opt.zero_grad()
            loss.backward()
            opt.step()
            if live is not None:
                live(loss=loss)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=21)
    repeats = parser.parse_args().repeats
    torch.set_num_threads(1)
    live = make_live()
    tight(live)  # warm up (and start live's thread)
    bare_t, with_t, bare_s, with_s = [], [], [], []
    for _ in range(repeats):
        # the time until live's thread has read and sent everything counts too
        start = time.perf_counter()
        tight(live)
        live.flush()
        with_t.append(time.perf_counter() - start)
        bare_t.append(tight(None))
    live = make_live()  # the seed's loop on its own: no backlog of the tight loop's values
    seed_loop(live)
    for _ in range(repeats):
        with_s.append(seed_loop(live))
        bare_s.append(seed_loop(None))
    per_call = (statistics.median(with_t) - statistics.median(bare_t)) / TIGHT_CALLS * 1e6
    print(f"tight loop, {TIGHT_CALLS:,} iterations: without live {statistics.median(bare_t) * 1e3:.1f} ms, "
          f"with live(loss=t) {statistics.median(with_t) * 1e3:.1f} ms -> {per_call:.2f} µs per call "
          f"(target <= 5 µs)")
    # each pair ran back to back: the median of the pairs' ratios is the least noisy figure
    ratio = statistics.median(w / b for w, b in zip(with_s, bare_s, strict=True))
    print(f"seed's loop (700 steps): without live {statistics.median(bare_s) * 1e3:.1f} ms, "
          f"with live(loss=loss) {statistics.median(with_s) * 1e3:.1f} ms -> {ratio:.3f}x, median of "
          f"{repeats} pairs ({(ratio - 1) * 100:+.1f}%; target <= +2%)")
    live.flush()
    print(f"values read and sent: {len(live.series.get('loss', [])):,} (every call of the session)")


if __name__ == "__main__":
    main()
