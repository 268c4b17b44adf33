"""What watching the gradients costs, side by side in one run: the moons MLP trained by the
trainer with the gradient-health tracker (its snapshots read at the redraw rate, as the kernel
does) against the same run without it. Runs alternate, each pair on the same data and seed; the
figure is the median of the pairs' ratios of the training thread's CPU time (on a machine whose
cores others share, wall time mostly measures them; both are printed). Target: <= 1.05.

The tensor loader is used: its steps are the cheapest, so the tracker's share is the largest. One
intra-op thread (`--threads`): a 2 → 16 → 2 MLP gains nothing from more, and on a busy machine
their waiting for one another swamps what is measured.

    python bench/grad_health_cost.py [--repeats 7] [--epochs 300]
"""

from __future__ import annotations

import argparse
import statistics
import time

TARGET = 1.05


def timed_run(cfg, data, health: bool) -> tuple[float, float, float]:
    """(CPU seconds of this thread, wall seconds, the tracker's own seconds) of one run."""
    from engine.kernel.training_run import REDRAW_HZ
    from engine.training import Trainer, drive

    trainer = Trainer(cfg, data, events_per_second=REDRAW_HZ, health=health)
    read_at = [0.0]

    def progress(_p) -> None:  # as the kernel's HealthRelay: one snapshot per redraw
        now = time.monotonic()
        if trainer.health is not None and now - read_at[0] >= 1 / REDRAW_HZ:
            read_at[0] = now
            trainer.health.snapshot()

    start, cpu = time.perf_counter(), time.thread_time()
    drive(trainer, progress)
    spent = trainer.health.spent if trainer.health is not None else 0.0
    return time.thread_time() - cpu, time.perf_counter() - start, spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    from engine.training import make_config, make_data

    cfg = make_config(task="moons", epochs=args.epochs, loader="tensor", device=args.device)
    data = make_data(cfg)
    timed_run(cfg, data, True)  # warm up: the first run pays torch's own first calls
    ratios, wall_ratios, plain, watched, shares = [], [], [], [], []
    for i in range(args.repeats):
        order = (False, True) if i % 2 == 0 else (True, False)
        times = {health: timed_run(cfg, data, health) for health in order}
        plain.append(times[False][0])
        watched.append(times[True][0])
        ratios.append(times[True][0] / times[False][0])
        wall_ratios.append(times[True][1] / times[False][1])
        shares.append(times[True][2] / times[True][1])
    steps = args.epochs * -(-cfg.samples // cfg.batch_size)
    print(f"moons MLP 2 -> {cfg.hidden} -> 2, {steps} steps of batch {cfg.batch_size} on {args.device} "
          f"({args.threads} thread), {args.repeats} pairs")
    print(f"without the tracker  median {statistics.median(plain):.3f} CPU s "
          f"({statistics.median(plain) / steps * 1e6:.0f} µs a step)")
    print(f"with it              median {statistics.median(watched):.3f} CPU s")
    print(f"wall-time ratio, median of pairs: {statistics.median(wall_ratios):.3f}")
    print(f"the tracker's own time (its clock, snapshots included), median share of a run: "
          f"{statistics.median(shares):.1%}")
    print(f"CPU-time ratio of the fastest runs (least disturbed): {min(watched) / min(plain):.3f}")
    ratio = statistics.median(ratios)
    print(f"CPU-time ratio (with / without), median of pairs: {ratio:.3f}  (target <= {TARGET})  "
          f"pairs: {' '.join(f'{r:.3f}' for r in ratios)}")

if __name__ == "__main__":
    main()
