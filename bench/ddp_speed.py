"""Data-parallel training speed: samples/s of the seed's problem at 10^6 samples for N = 1, 2, ...
ranks (torch.distributed, gloo on the CPU, NCCL with --device cuda), side by side with the
single-process trainer in the same run, and the scaling efficiency.

Every run trains the same config (1 feature, noise 10, batch 1024 per rank, tensor loader) for a
few epochs; the rate counts training steps only (each rank's own clock from its first step), not
the start of the processes. Efficiency = (total samples/s with N ranks) / (N × single-process
samples/s). Runs alternate single, N=1, N=2, ..., repeated; medians are printed.

    python bench/ddp_speed.py [--samples 1000000] [--epochs 3] [--ranks 1 2] [--repeats 3] [--device cpu]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=1_000_000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--ranks", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()

    from engine.distributed import train_distributed
    from engine.training import make_config, make_data, train_on

    cfg = make_config(samples=args.samples, epochs=args.epochs, batch_size=args.batch_size, loader="tensor",
                      device=args.device)
    data = make_data(cfg)
    single: list[float] = []
    ranked: dict[int, list[float]] = {n: [] for n in args.ranks}
    per_rank: dict[int, list[list[float]]] = {n: [] for n in args.ranks}
    walls: dict[int, list[float]] = {n: [] for n in args.ranks}
    for _ in range(args.repeats):
        single.append(train_on(cfg, data).samples_per_s)
        for n in args.ranks:
            start = time.perf_counter()
            result = train_distributed(cfg, n)
            walls[n].append(time.perf_counter() - start)
            ranked[n].append(result.samples_per_s)
            per_rank[n].append([r.samples_per_s for r in result.ranks])
    base = statistics.median(single)
    print(f"seed problem, {args.samples:,} samples, batch {args.batch_size} per rank, {args.epochs} epochs, "
          f"{args.device}, {os.cpu_count()} cores")
    print(f"{'':<26}{'samples/s':>12}  {'per rank':<28}{'efficiency':>10}  {'wall (with start)':>17}")
    print(f"{'single-process trainer':<26}{base:>12,.0f}  {'':<28}{1.0:>10.2f}")
    for n in args.ranks:
        total = statistics.median(ranked[n])
        middle = sorted(range(len(ranked[n])), key=lambda i: ranked[n][i])[len(ranked[n]) // 2]
        ranks = " + ".join(f"{v:,.0f}" for v in per_rank[n][middle])
        backend = "nccl" if args.device.startswith("cuda") else "gloo"
        print(f"{f'DDP, {n} rank(s), {backend}':<26}{total:>12,.0f}  {ranks:<28}{total / (n * base):>10.2f}  "
              f"{statistics.median(walls[n]):>15.1f} s")


if __name__ == "__main__":
    main()
