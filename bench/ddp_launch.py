"""Which launcher starts torchtui's ranks: torch.multiprocessing's start_processes (spawn), as
engine.distributed does, against the elastic agent behind torchrun (elastic_launch), side by side.

Each launch starts N processes that join a gloo group, all-reduce one tensor and leave; the time is
from the call to its return. A second part kills rank 1 with SIGKILL right after the group is up
and times how long each launcher takes to report the failure (and whether it names the rank).

`--start-methods` compares the start methods instead, on engine.distributed's own runs: in a fresh
process each, two consecutive tiny runs (train_distributed, N ranks), timed from the call to the
first progress and to the end, with ranks from spawn and from the engine's forkserver (rank_context:
torch and the engine preloaded), side by side with the ratio. The forkserver's first run pays one
import of everything in the server; the second starts its ranks from it in milliseconds.

    python bench/ddp_launch.py [--nproc 2] [--repeats 5] [--start-methods]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def job(rank_or_none=None, world=None, port=None, die_rank=-1) -> int:
    """All-reduce once; rank `die_rank` kills itself with SIGKILL first."""
    import torch
    import torch.distributed as dist

    if rank_or_none is None:  # under the elastic agent: the environment says who we are
        dist.init_process_group("gloo")
    else:
        os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
        dist.init_process_group("gloo", rank=rank_or_none, world_size=world)
    if dist.get_rank() == die_rank:
        os.kill(os.getpid(), signal.SIGKILL)
    value = torch.ones(1)
    dist.all_reduce(value)
    dist.barrier()
    dist.destroy_process_group()
    return int(value.item())


def elastic_job(die_rank: int) -> int:
    return job(die_rank=die_rank)


def with_spawn(nproc: int, die_rank: int = -1) -> tuple[float, str]:
    import torch.multiprocessing as mp

    start = time.perf_counter()
    try:
        mp.start_processes(job, args=(nproc, free_port(), die_rank), nprocs=nproc, start_method="spawn")
        said = "ok"
    except mp.ProcessExitedException as exc:
        said = f"rank {exc.error_index}: {exc.signal_name or exc.exit_code}"
    return time.perf_counter() - start, said


def with_elastic(nproc: int, die_rank: int = -1) -> tuple[float, str]:
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.launcher.api import LaunchConfig, elastic_launch

    config = LaunchConfig(min_nodes=1, max_nodes=1, nproc_per_node=nproc, run_id=uuid.uuid4().hex,
                          rdzv_backend="c10d", rdzv_endpoint=f"127.0.0.1:{free_port()}", max_restarts=0,
                          monitor_interval=0.1, start_method="spawn")
    start = time.perf_counter()
    try:
        elastic_launch(config, elastic_job)(die_rank)
        said = "ok"
    except ChildFailedError as exc:
        failure = exc.get_first_failure()[1]
        said = f"rank {failure.local_rank}: {failure.signal_name() or failure.exitcode}"
    return time.perf_counter() - start, said


def engine_runs(method: str, nproc: int) -> list[tuple[float, float]]:
    """Two consecutive tiny train_distributed runs with ranks from `method`: (to first progress,
    to the end) of each."""
    from engine import distributed
    from engine.training import make_config

    if method == "spawn":
        import multiprocessing

        distributed.rank_context = lambda: multiprocessing.get_context("spawn")  # type: ignore[assignment]
    times = []
    for _ in range(2):
        first: list[float] = []
        start = time.perf_counter()
        distributed.train_distributed(make_config(epochs=1, samples=64), nproc,
                                      on_progress=lambda _p, first=first: first or first.append(time.perf_counter()))
        end = time.perf_counter()
        times.append((first[0] - start, end - start))
    return times


def start_methods(nproc: int) -> None:
    import json
    import subprocess

    here = Path(__file__).resolve()
    results = {}
    for method in ("spawn", "forkserver"):  # each in a process of its own: no server left from the other
        out = subprocess.run([sys.executable, str(here), "--engine-runs", method, "--nproc", str(nproc)],
                             capture_output=True, text=True, check=True, cwd=here.parent.parent)
        results[method] = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"{nproc} ranks, gloo, engine.distributed.train_distributed, 1 epoch of 64 samples, a fresh process:")
    print(f"  {'':12}{'to first progress':>36}{'to the end':>36}")
    print(f"  {'':12}" + "".join(f"{'spawn':>12}{'forkserver':>12}{'ratio':>12}" for _ in range(2)))
    for run in (0, 1):
        cells = []
        for what in (0, 1):
            s, f = results["spawn"][run][what], results["forkserver"][run][what]
            cells.append(f"{s:11.2f}s{f:11.2f}s{s / f:11.1f}x")
        print(f"  {('first run', 'second run')[run]:12}" + "".join(cells))


def main() -> None:
    if "--engine-runs" in sys.argv:  # (one side of --start-methods, in its own process)
        import json

        nproc = int(sys.argv[sys.argv.index("--nproc") + 1])
        print(json.dumps(engine_runs(sys.argv[sys.argv.index("--engine-runs") + 1], nproc)))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nproc", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--start-methods", action="store_true",
                        help="spawn against the forkserver, on two consecutive engine runs")
    args = parser.parse_args()
    if args.start_methods:
        start_methods(args.nproc)
        return
    spawn, elastic = [], []
    for _ in range(args.repeats):  # alternate
        spawn.append(with_spawn(args.nproc)[0])
        elastic.append(with_elastic(args.nproc)[0])
    s, e = statistics.median(spawn), statistics.median(elastic)
    print(f"{args.nproc} ranks, gloo, start + all_reduce + exit, median of {args.repeats}:")
    print(f"  torch.multiprocessing.start_processes  {s:6.2f} s")
    print(f"  elastic_launch (torchrun's agent)      {e:6.2f} s  ({e / s:.2f}x)")
    t, said = with_spawn(args.nproc, die_rank=1)
    print(f"rank 1 killed: start_processes reports in {t:5.2f} s: {said}")
    t, said = with_elastic(args.nproc, die_rank=1)
    print(f"rank 1 killed: elastic_launch reports in  {t:5.2f} s: {said}")


if __name__ == "__main__":
    main()
