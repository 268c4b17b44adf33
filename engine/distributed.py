"""Data-parallel training with torch.distributed, without a UI.

`train_distributed(cfg, nproc)` starts `nproc` worker processes with torch.multiprocessing's
`start_processes`, each a rank of one process group: NCCL when each rank has its own GPU,
gloo otherwise. Every rank builds the same data, wraps the same seeded model in
DistributedDataParallel and trains on its DistributedSampler shard (engine.training.Trainer does
the work). DDP averages the gradients over the ranks (an all-reduce) in every backward, so every
rank takes the same step: at the end each rank's weights are compared, and they are equal.

Rank 0 reports progress as a single run does; every rank reports its samples/s. A rank that dies
stops the run at once (the others are terminated, none is left behind) with a message naming it;
a rendezvous port that turns out to be taken is replaced by another, up to three times.

The ranks come from a forkserver (`rank_context`) that has torch and the engine loaded: the first
run in a process pays for one import, later runs start their ranks in milliseconds (spawn, where
there is no forkserver, imports torch again in every rank of every run). Each rank takes the
starting process's environment as it is when the run starts, not as the forkserver found it.

A local run meets on the loopback only: its rendezvous store (torch's TCPStore, which has no
authentication and would otherwise listen on every interface) listens on 127.0.0.1, through a
socket bound here and handed to it (`rendezvous_store`).
"""

from __future__ import annotations

import math
import os
import queue as queue_module
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from engine.i18n import SaidError, said
from engine.tasks import task
from engine.training import MAX_PROCESSES, ConfigError, Progress, Result, RunConfig

if TYPE_CHECKING:
    from torch import nn

    from engine.grad_health import HealthSnapshot

PORT_TRIES = 3
POLL_S = 0.05
HEALTH_EVERY_S = 0.1  # rank 0's gradient health goes to the parent at the redraw rate
LOOPBACK = "127.0.0.1"


class RankFailed(SaidError, RuntimeError):
    """A worker process failed; `rank` names it."""

    def __init__(self, rank: int, why) -> None:
        super().__init__("err.ddp.rank", rank=rank, why=why)
        self.rank = rank


@dataclass(frozen=True)
class RankReport:
    """One rank's share of a run: how many samples it trained on, and how fast."""

    rank: int
    samples: int
    seconds: float
    samples_per_s: float


@dataclass(frozen=True)
class DistributedResult:
    """A data-parallel run: rank 0's Result, each rank's speed, and how far apart the ranks'
    final weights are (0.0: the all-reduce kept them equal)."""

    result: Result
    world_size: int
    backend: str
    ranks: tuple[RankReport, ...]
    weights_max_difference: float
    global_batch: int
    shard: int  # samples per rank and epoch (DistributedSampler pads the last shards to equal size)
    weights: tuple[float, ...] = ()  # rank 0's final parameters, flattened (the model, rebuilt elsewhere)

    @property
    def samples_per_s(self) -> float:
        return sum(r.samples_per_s for r in self.ranks)

    def as_json(self) -> dict:
        data = self.result.as_json()
        data.update(world_size=self.world_size, backend=self.backend, global_batch=self.global_batch,
                    shard=self.shard, samples_per_s=self.samples_per_s,
                    rank_samples_per_s=[r.samples_per_s for r in self.ranks],
                    weights_max_difference=self.weights_max_difference)
        return data


def backend_for(device: str) -> str:
    """NCCL when each rank gets a CUDA GPU of its own, gloo otherwise (any number of CPU ranks)."""
    return "nccl" if device.startswith("cuda") else "gloo"


def check_world(cfg: RunConfig, nproc: int) -> tuple[str, str]:
    """The device kind and backend for `nproc` ranks; refuses what cannot run (ConfigError on
    `processes`): fewer than 1, MPS (no process-group backend), more ranks than GPUs on NCCL."""
    from engine.devices import resolve

    if nproc < 1:
        raise ConfigError("processes", said("err.config.processes_range", most=MAX_PROCESSES))
    device = resolve(cfg.device)
    if device == "mps":
        raise ConfigError("processes", said("err.ddp.mps"))
    backend = backend_for(device)
    if backend == "nccl":
        import torch

        count = torch.cuda.device_count()
        if nproc > count:
            raise ConfigError("processes", said("err.ddp.gpus", n=nproc, count=count))
    return device, backend


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def rendezvous_store(rank: int, world_size: int, port: int, timeout_s: float = 1800.0):
    """The process group's store for a local run, on the loopback only: rank 0 binds 127.0.0.1:`port`
    itself and hands the listening socket to the TCPStore (given only a port, TCPStore listens on
    every interface, and anyone who can reach the machine could join or poison the group); the
    other ranks connect to it there. A taken port raises OSError (EADDRINUSE) on rank 0."""
    import datetime

    import torch.distributed as dist

    timeout = datetime.timedelta(seconds=timeout_s)
    if rank != 0:
        return dist.TCPStore(LOOPBACK, port, world_size, False, timeout)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        listener.bind((LOOPBACK, port))
        listener.listen(max(8, world_size))
    except BaseException:
        listener.close()
        raise
    # the store owns the socket from here, and closes it itself when it fails (a timeout waiting
    # for the other ranks): closing it again here could close a descriptor reused meanwhile
    return dist.TCPStore(LOOPBACK, port, world_size, True, timeout, master_listen_fd=listener.detach())


def loopback_interface() -> str | None:
    """The loopback interface's name ("lo" on Linux, "lo0" on BSD and macOS), if there is one."""
    try:
        names = {name for _index, name in socket.if_nameindex()}
    except OSError:
        return None
    return next((name for name in ("lo", "lo0") if name in names), None)


def _port_taken(text: str) -> bool:
    low = text.lower()
    return "address already in use" in low or "eaddrinuse" in low or "errno 98" in low


# what a rank imports: DDP's constructor loads torch._dynamo, the built-in tasks' data sklearn (each
# over a second and a half); a module that is not there is skipped
PRELOAD = ["torch", "torch.distributed", "torch.nn.parallel", "torch._dynamo", "sklearn.datasets",
           "engine.tasks", "engine.training", "engine.distributed"]


def rank_context():
    """The multiprocessing context the ranks (and the Events they share) come from: a forkserver
    with torch and the engine preloaded where there is one (Linux, macOS), spawn elsewhere."""
    import multiprocessing

    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)  # (taken when the server starts: the first run's)
    return context


def _ppid_of(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return 0


def _die_with_parent(starter: int) -> None:
    """On Linux, be killed the moment the process that started this run dies (a kernel killed
    with its app, a CLI killed with -9): a rank must never outlive its run.

    A spawned rank is the starter's child: PR_SET_PDEATHSIG does it all. A forkserver's rank is
    the server's child: it is killed when the server dies, and the server ends when the starter
    does (it sees EOF on its "alive" pipe, whose write ends the starter holds; each rank is given
    one too, closed here, or the server would wait for its own ranks). Looked at after the
    request: if the starter (or the server) is already gone, the rank ends at once."""
    import sys

    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    parent = os.getppid()
    if parent == starter:  # spawned
        return
    from multiprocessing import forkserver

    # (the stdlib keeps the server and its pipe private: the attributes are there in 3.11 to 3.13;
    # without them a rank keeps the pipe open, and outlives a starter killed with -9 until its run ends)
    server = getattr(forkserver, "_forkserver", None)
    alive = getattr(server, "_forkserver_alive_fd", None)
    if alive is not None:
        try:
            os.close(alive)
        except OSError:
            pass
        server._forkserver_alive_fd = None  # type: ignore[union-attr]
    if _ppid_of(parent) != starter:  # the starter (or the server) died before the request took effect
        os._exit(1)


def _worker(rank: int, world_size: int, port: int, config: dict, backend: str, events, go, rates_every: float,
            niceness: int = 0, parent: int = 0, environ: dict[str, str] | None = None):
    """One rank: join the group, train its shard, report. Runs in a process of `rank_context()`;
    `environ` is the starter's environment at the start of the run (a forkserver's is older)."""
    if parent:
        _die_with_parent(parent)
    if environ is not None:
        os.environ.clear()
        os.environ.update(environ)
    import torch.distributed as dist

    from engine.training import Trainer, drive, make_config

    if niceness and hasattr(os, "nice"):
        os.nice(niceness)  # behind the app that started it, where cores are few
    os.environ.update(MASTER_ADDR=LOOPBACK, MASTER_PORT=str(port))
    loopback = loopback_interface()
    if backend == "gloo" and loopback:  # gloo's own connections between the ranks: the loopback too
        os.environ["GLOO_SOCKET_IFNAME"] = loopback
    try:
        store = rendezvous_store(rank, world_size, port)
        dist.init_process_group(backend, store=store, rank=rank, world_size=world_size)
    except Exception as exc:  # noqa: BLE001 - told to the parent, which may try another port
        events.put(("setup_failed", rank, f"{type(exc).__name__}: {exc}"))
        raise SystemExit(3) from None
    try:
        cfg = make_config(**config)
        device = f"cuda:{rank}" if backend == "nccl" else "cpu"
        if device == "cpu":  # the cores are shared by the ranks (torchrun does the same with OMP_NUM_THREADS)
            import torch

            torch.set_num_threads(max(1, (os.cpu_count() or 1) // world_size))
        # rank 0 watches the gradients: after the all-reduce every rank's are the same
        trainer = Trainer(cfg, None, rank=rank, world_size=world_size, device=device, go=go, ddp=True,
                          health=rank == 0)
        last_rate = [time.perf_counter()]
        last_health = [0.0]

        def report(progress) -> None:
            now = time.perf_counter()
            if rank == 0:
                events.put(("progress", rank, progress))
                if trainer.health is not None and now - last_health[0] >= HEALTH_EVERY_S:
                    last_health[0] = now
                    events.put(("health", rank, trainer.health.snapshot()))
            if progress.epoch_done and now - last_rate[0] >= rates_every:
                last_rate[0] = now
                events.put(("rate", rank, progress.samples_per_s))

        result = drive(trainer, report)
        events.put(("rate", rank, result.samples_per_s))  # every rank's last word on its speed
        assert trainer.model is not None  # (built by the run)
        flat = [float(v) for p in trainer.model.parameters() for v in p.detach().cpu().reshape(-1).tolist()]
        samples = round(result.samples_per_s * result.seconds)
        events.put(("done", rank, result if rank == 0 else None,
                    RankReport(rank, samples, result.seconds, result.samples_per_s), flat))
        dist.barrier()  # every rank done with the group before any takes it down (gloo aborts otherwise)
    except SaidError as exc:  # diverged, say: the same for every rank, told once by each
        events.put(("said", rank, exc.said))
        raise SystemExit(2) from None
    finally:
        dist.destroy_process_group()


def train_distributed(cfg: RunConfig, nproc: int, on_progress: Callable[[Progress], None] | None = None,
                      on_rate: Callable[[int, float], None] | None = None, port: int | None = None,
                      should_stop: Callable[[], bool] | None = None, go=None,
                      niceness: int = 0, on_health: Callable[[HealthSnapshot], None] | None = None,
                      ) -> DistributedResult | None:
    """Train `cfg` on `nproc` ranks; `on_progress` gets rank 0's Progress (and `on_health` its
    gradients' health), `on_rate(rank, samples/s)` each rank's speed after its epochs. `should_stop()` returning True ends the run early (the
    workers are terminated) and returns None. Raises ConfigError, RankFailed, or what a rank said
    (Diverged's words)."""
    _device, backend = check_world(cfg, nproc)
    context = rank_context()
    if go is None:
        go = context.Event()
        go.set()
    tried: list[int] = []
    for _attempt in range(PORT_TRIES):
        chosen = port if port is not None and not tried else free_port()
        tried.append(chosen)
        try:
            outcome = _run_once(cfg, nproc, backend, chosen, context, go, on_progress, on_rate, should_stop,
                                niceness, on_health)
        except _Stopped:
            return None
        if outcome != "port_taken":
            return outcome
    raise RankFailed(0, said("err.ddp.ports", ports=", ".join(map(str, tried))))


def _run_once(cfg, nproc, backend, port, context, go, on_progress, on_rate, should_stop, niceness, on_health=None):
    import torch.multiprocessing as mp

    events = context.Queue()
    processes = mp.start_processes(_worker, args=(nproc, port, asdict(cfg), backend, events, go, 0.25, niceness,
                                                  os.getpid(), dict(os.environ)),
                                   nprocs=nproc, join=False, start_method=context.get_start_method())
    done: dict[int, tuple] = {}
    said_by_rank = None
    setup_failed: str | None = None

    def drain() -> None:
        nonlocal said_by_rank, setup_failed
        while True:
            try:
                item = events.get_nowait()
            except (queue_module.Empty, OSError, EOFError):
                return
            kind, rank = item[0], item[1]
            if kind == "progress" and on_progress is not None:
                on_progress(item[2])
            elif kind == "health" and on_health is not None and item[2] is not None:
                on_health(item[2])
            elif kind == "rate" and on_rate is not None:
                on_rate(rank, item[2])
            elif kind == "done":
                done[rank] = item[2:]
            elif kind == "said" and said_by_rank is None:
                said_by_rank = item[2]
            elif kind == "setup_failed" and setup_failed is None:
                setup_failed = item[2]

    try:
        while True:
            drain()
            if should_stop is not None and should_stop():
                _terminate(processes)
                raise _Stopped
            try:
                finished = processes.join(timeout=POLL_S)
            except mp.ProcessExitedException as exc:  # killed, or exited with an error
                drain()
                if setup_failed is not None and _port_taken(setup_failed):
                    return "port_taken"
                if said_by_rank is not None:
                    raise SaidError(said_by_rank.code, **said_by_rank.values) from None
                if setup_failed is not None:
                    raise RankFailed(exc.error_index, setup_failed) from None
                if exc.signal_name:
                    why = said("err.ddp.signal", signal=exc.signal_name)
                else:
                    why = said("err.ddp.exit", code=exc.exit_code)
                raise RankFailed(exc.error_index, why) from None
            except mp.ProcessRaisedException as exc:
                drain()
                last = [ln for ln in str(exc).strip().splitlines() if ln.strip()]
                raise RankFailed(exc.error_index, last[-1] if last else "") from None
            if finished:
                break
        drain()
    finally:
        _terminate(processes)
    return _gather(cfg, nproc, backend, done)


class _Stopped(Exception):
    pass


def _terminate(processes) -> None:
    """Every worker gone, whatever happened: terminate, then kill what is left."""
    for process in processes.processes:
        if process.is_alive():
            process.terminate()
    deadline = time.monotonic() + 5
    for process in processes.processes:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            process.kill()
            process.join(1)


def _gather(cfg: RunConfig, nproc: int, backend: str, done: dict) -> DistributedResult:
    result = done[0][0]
    weights = {rank: entry[2] for rank, entry in done.items()}
    difference = max((max((abs(a - b) for a, b in zip(weights[0], w, strict=True)), default=0.0)
                      for w in weights.values()), default=0.0)
    ranks = tuple(done[rank][1] for rank in sorted(done))
    shard = math.ceil(cfg.samples / nproc)
    return DistributedResult(result, nproc, backend, ranks, difference, cfg.batch_size * nproc, shard,
                             tuple(weights[0]))


def model_of(cfg: RunConfig, weights: Sequence[float]) -> nn.Module:
    """The trained model, rebuilt in this process from rank 0's flattened weights."""
    import torch

    from engine.training import build_model

    model = build_model(cfg)
    torch.nn.utils.vector_to_parameters(torch.tensor(list(weights), dtype=torch.float32), model.parameters())
    return model


def big_batch_equivalent(cfg: RunConfig, world_size: int, data=None) -> list[float]:
    """What one process computes with batch world_size × batch_size over the samples the ranks
    saw, in the order they saw them (each step: rank 0's batch, then rank 1's, ...): the final
    weights, flattened. With equal batches on every rank, DDP's averaged gradient is this
    batch's gradient, so a DDP run ends with these weights (to float rounding)."""
    import torch
    from torch.utils.data import TensorDataset
    from torch.utils.data.distributed import DistributedSampler

    from engine.training import build_model, build_optimizer, make_data

    data = data or make_data(cfg)
    torch.manual_seed(cfg.seed)
    model = build_model(cfg)
    criterion = task(cfg.task).loss()
    optimizer = build_optimizer(cfg.optimizer, model.parameters(), cfg.lr)
    dataset = TensorDataset(data.x, data.y)
    samplers: list[DistributedSampler] = [DistributedSampler(dataset, num_replicas=world_size, rank=r, shuffle=cfg.shuffle, seed=cfg.seed)
                for r in range(world_size)]
    for epoch in range(1, cfg.epochs + 1):
        shards = []
        for sampler in samplers:
            sampler.set_epoch(epoch)
            shards.append(list(sampler))
        for start in range(0, len(shards[0]), cfg.batch_size):
            idx = [i for shard in shards for i in shard[start:start + cfg.batch_size]]
            loss = criterion(model(data.x[idx]), data.y[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return [float(v) for p in model.parameters() for v in p.detach().reshape(-1).tolist()]
