"""Training without a UI, for any task of engine.tasks (which makes the data, the model, the loss
and the measures of a run): config and its checks, data, and a pausable trainer that yields
events."""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from engine.grad_health import GradHealth
from engine.i18n import Said, SaidError, said
from engine.tasks import DEFAULT_TASK, TASKS, task
from engine.tasks.base import (
    FIELD_TYPES,
    LOADERS,
    MAX_HIDDEN,
    MAX_LR,
    MAX_PROCESSES,
    OPTIMIZERS,
    Dataset,
    Meter,
    RunConfig,
)

if TYPE_CHECKING:
    from torch import nn

    from engine.tasks.base import Given

__all__ = ["FIELD_TYPES", "LOADERS", "MAX_HIDDEN", "MAX_LR", "MAX_PROCESSES", "OPTIMIZERS", "TASKS", "Dataset",
           "RunConfig"]  # (the config's parts live with the tasks; these are their names here)

EVENTS_PER_SECOND = 20


class ConfigError(SaidError, ValueError):
    """A config field the user got wrong; `field` names it, `reason` (a Said) says what is wrong."""

    def __init__(self, field_name: str, reason: Said) -> None:
        super().__init__("err.config.field", field=field_name, reason=reason)
        self.field = field_name


class Diverged(SaidError, RuntimeError):
    """The loss became NaN or Inf; says where, and suggests a lower learning rate."""

    def __init__(self, epoch: int, step: int, lr: float) -> None:
        super().__init__("err.train.diverged", epoch=epoch, step=step, lr=f"{lr:g}")
        self.epoch, self.step = epoch, step


def defaults(name: str = DEFAULT_TASK) -> RunConfig:
    """The starting config of a task."""
    return task(name).config()


def _parse(name: str, value):
    kind = FIELD_TYPES[name]
    if kind == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off"):
            return False
        raise ConfigError(name, said("err.config.yes_no", value=repr(value)))
    if kind == "int":
        try:
            if isinstance(value, float) and value.is_integer():
                return int(value)
            return int(str(value).strip())
        except ValueError:
            raise ConfigError(name, said("err.config.whole", value=repr(value))) from None
    if kind == "float":
        try:
            number = float(str(value).strip())
        except ValueError:
            raise ConfigError(name, said("err.config.number", value=repr(value))) from None
        if not math.isfinite(number):
            raise ConfigError(name, said("err.config.finite", value=repr(value)))
        return number
    return str(value).strip().lower()


def make_config(**raw) -> RunConfig:
    """Build a RunConfig from strings or numbers, checking every field; raises ConfigError. Fields
    not given take the task's defaults."""
    unknown = set(raw) - set(FIELD_TYPES)
    if unknown:
        raise ConfigError(sorted(unknown)[0], said("err.config.unknown"))
    values = {name: _parse(name, value) for name, value in raw.items()}
    name = values.pop("task", DEFAULT_TASK)
    if name not in TASKS:
        raise ConfigError("task", said("err.config.choose", choices=", ".join(TASKS)))
    cfg = replace(defaults(name), **values)
    checks = [
        ("samples", cfg.samples >= 2, said("err.config.samples")),
        ("features", cfg.features >= 1, said("err.config.features")),
        *task(name).checks(cfg),
        ("noise", cfg.noise >= 0, said("err.config.noise")),
        ("batch_size", cfg.batch_size >= 1, said("err.config.batch_size")),
        ("epochs", cfg.epochs >= 1, said("err.config.epochs")),
        ("lr", cfg.lr > 0, said("err.config.lr_low")),
        ("lr", cfg.lr <= MAX_LR, said("err.config.lr_high", most=f"{MAX_LR:g}")),
        ("data_seed", 0 <= cfg.data_seed <= 2**32 - 1, said("err.config.data_seed")),
        ("seed", 0 <= cfg.seed <= 2**63 - 1, said("err.config.seed")),
        ("hidden", 1 <= cfg.hidden <= MAX_HIDDEN, said("err.config.hidden", most=MAX_HIDDEN)),
        ("processes", 1 <= cfg.processes <= MAX_PROCESSES, said("err.config.processes_range", most=MAX_PROCESSES)),
        ("optimizer", cfg.optimizer in OPTIMIZERS, said("err.config.choose", choices=", ".join(OPTIMIZERS))),
        ("loader", cfg.loader in LOADERS, said("err.config.choose", choices=", ".join(LOADERS))),
    ]
    for name, ok, reason in checks:
        if not ok:
            raise ConfigError(name, reason)
    from engine.devices import DeviceError, check_syntax

    try:
        check_syntax(cfg.device)
    except DeviceError as exc:
        raise ConfigError("device", exc.said) from None
    return cfg


def dataset_bytes(cfg: RunConfig) -> int:
    """Memory the run's dataset takes at its peak."""
    return task(cfg.task).data_bytes(cfg)


def available_bytes() -> int | None:
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def make_data(cfg: RunConfig) -> Dataset:
    """The task's data; refuses sizes that would not fit in memory."""
    need = dataset_bytes(cfg)
    free = available_bytes()
    if free is not None and need > free * 0.8:
        raise ConfigError("samples", said("err.config.memory", need=f"{need / 2**30:.1f}", free=f"{free / 2**30:.1f}"))
    return task(cfg.task).make_data(cfg)


def build_model(cfg: RunConfig) -> nn.Module:
    """A fresh model of the run's task."""
    return task(cfg.task).model(cfg)


def shard_indices(sampler):
    """This rank's indices for the sampler's current epoch as one tensor: what iterating the
    DistributedSampler gives (the same permutation from the same seed and epoch, padded the same
    way), without a Python list of a million ints each epoch."""
    import torch

    n = len(sampler.dataset)
    if sampler.shuffle:
        generator = torch.Generator()
        generator.manual_seed(sampler.seed + sampler.epoch)
        order = torch.randperm(n, generator=generator)
    else:
        order = torch.arange(n)
    if sampler.drop_last:
        order = order[:sampler.total_size]
    elif sampler.total_size > n:
        order = torch.cat([order, order.repeat(math.ceil((sampler.total_size - n) / n))[:sampler.total_size - n]])
    return order[sampler.rank:sampler.total_size:sampler.num_replicas]


@dataclass(frozen=True)
class Progress:
    """Where a run is: sent at the end of each epoch (`epoch_done`) and, in long epochs, within it."""

    epoch: int
    epochs: int
    step: int
    loss: float  # the epoch's mean loss so far (weighted by batch size)
    samples_per_s: float
    elapsed: float
    epoch_done: bool
    metrics: Any = None  # the task's own (its Meter's progress): the line so far, the accuracy, ...


@dataclass(frozen=True)
class Result:
    """A finished (or stopped) run; what the task measured is its own `metrics` (the learned line
    and the least-squares floor, or the accuracy, ...)."""

    final_loss: float
    epochs: int
    steps: int
    seconds: float
    samples_per_s: float
    device: str
    loss_history: tuple[float, ...] = field(default=(), repr=False)
    stopped: bool = False
    task: str = DEFAULT_TASK
    metrics: Any = None

    def as_json(self) -> dict:
        data: dict[str, Any] = {"task": self.task, "final_loss": self.final_loss}
        if self.metrics is not None:
            data.update(self.metrics.as_json())
        data.update(epochs=self.epochs, steps=self.steps, seconds=self.seconds, samples_per_s=self.samples_per_s,
                    device=self.device)
        return data


def build_optimizer(name: str, params, lr: float):
    import torch

    if name == "sgd":
        return torch.optim.SGD(params, lr=lr)
    if name == "momentum":
        return torch.optim.SGD(params, lr=lr, momentum=0.9)
    return torch.optim.Adam(params, lr=lr)


class RunControl:
    """Pause, resume and stop for a run, from any thread. `go` is set while the run may go on; it
    may be shared (a multiprocessing Event, for the ranks of a data-parallel run, so that one pause
    holds them all). `stopping` is set once stop() was asked for."""

    def __init__(self, go=None) -> None:
        self.go = go if go is not None else threading.Event()
        self.go.set()
        self.stopping = threading.Event()

    def pause(self) -> None:
        self.go.clear()

    def resume(self) -> None:
        self.go.set()

    def stop(self) -> None:
        self.stopping.set()
        self.go.set()  # a paused run wakes up to stop

    @property
    def paused(self) -> bool:
        return not self.go.is_set()


class Trainer(RunControl):
    """Trains one RunConfig; `run()` yields Progress events and returns a Result.

    pause(), resume() and stop() may be called from any thread and take effect within one step.
    """

    def __init__(self, cfg: RunConfig, data: Dataset | None = None,
                 events_per_second: float = EVENTS_PER_SECOND, rank: int = 0, world_size: int = 1,
                 device: str | None = None, go=None, ddp: bool = False, given: Given | None = None,
                 health: bool = False) -> None:
        """One process's trainer; with `world_size` > 1 it is rank `rank` of a process group that
        is already up (engine.distributed starts it, and sets `ddp`, even for a group of one): the
        model is wrapped in DDP and the data comes from this rank's DistributedSampler shard. `go` (an Event) can be shared by the
        ranks, so that one pause holds them all. `given`: the learner's own model, loss, optimizer and
        batches (a task with Task.given), trained as they are instead of the task's fresh ones.
        `health`: watch the gradients (engine.grad_health)."""
        super().__init__(go)
        self.given = given
        self.cfg = cfg
        self.events_per_second = events_per_second
        self.data = data
        self.rank, self.world_size = rank, world_size
        self.ddp = ddp or world_size > 1
        self.device = device
        self.model: nn.Module | None = None
        self.loss_history: list[float] = []
        self.meter: Meter | None = None  # the task's measures of this run (made when it starts)
        self.watch_health = health
        self.health: GradHealth | None = None  # the gradients' tracker, when watched (made when it starts)

    def _batches(self, x, y, device, generator, loader, sampler=None):
        """Yields (inputs, targets) on `device` for one epoch: from `loader` (a DataLoader) if
        given, else by shuffled index slicing of x and y, already on the device (in the order of
        this rank's `sampler` when there are several)."""
        import torch

        cfg = self.cfg
        if loader is not None:
            target = torch.device(device)
            for bx, by in loader:  # (a batch already there is not moved: .to() costs a dispatch a step)
                yield (bx if bx.device == target else bx.to(device, non_blocking=True),
                       by if by.device == target else by.to(device, non_blocking=True))
            return
        n = x.shape[0]
        if sampler is not None:
            order = shard_indices(sampler).to(device)
            n = order.shape[0]
        else:
            order = torch.randperm(n, generator=generator).to(device) if cfg.shuffle else None
        for start in range(0, n, cfg.batch_size):
            if order is None:
                yield x[start:start + cfg.batch_size], y[start:start + cfg.batch_size]
            else:
                idx = order[start:start + cfg.batch_size]
                yield x[idx], y[idx]

    def run(self) -> Generator[Progress, None, Result]:
        """Train, yielding Progress; the generator's return value (StopIteration.value) is the
        Result. `drive` runs it to the end."""
        import torch

        from engine.devices import resolve

        cfg = self.cfg
        kind = task(cfg.task)
        device = self.device or resolve(cfg.device)
        given = self.given
        data = self.data or make_data(cfg)
        self.data = data
        if given is None:
            torch.manual_seed(cfg.seed)
            model = build_model(cfg).to(device)
        else:  # the learner's object, moved as their own loop would (its parameters stay the optimizer's)
            model = given.model.to(device)
        self.model = model
        distributed = self.ddp
        if distributed:  # every rank starts from the same weights (the seed); DDP averages the gradients
            from torch.nn.parallel import DistributedDataParallel

            trained: nn.Module = DistributedDataParallel(model, device_ids=[device] if device.startswith("cuda")
                                                         else None)
        else:
            trained = model
        criterion = kind.loss() if given is None else given.loss
        meter = self.meter = kind.meter(cfg, data, device)
        counting = meter.counting()
        optimizer = build_optimizer(cfg.optimizer, model.parameters(), cfg.lr) if given is None else given.optimizer
        health = self.health = GradHealth(model) if self.watch_health else None
        generator = torch.Generator().manual_seed(cfg.seed)
        from torch.utils.data import DataLoader, TensorDataset
        from torch.utils.data.distributed import DistributedSampler

        loader: DataLoader | None = None
        sampler: DistributedSampler | None = None

        if distributed:
            sampler = DistributedSampler(TensorDataset(data.x, data.y), num_replicas=self.world_size, rank=self.rank,
                                         shuffle=cfg.shuffle, seed=cfg.seed)
        if given is not None:
            loader = given.loader  # None: the learner's tensors, sliced on the device
            x, y = (data.x, data.y) if loader is not None else (data.x.to(device), data.y.to(device))
        elif cfg.loader == "dataloader":
            if sampler is not None:
                loader = DataLoader(TensorDataset(data.x, data.y), batch_size=cfg.batch_size, sampler=sampler)
            else:
                loader = DataLoader(TensorDataset(data.x, data.y), batch_size=cfg.batch_size,
                                    shuffle=cfg.shuffle, generator=generator)
            x, y = data.x, data.y
        else:
            x, y = data.x.to(device), data.y.to(device)
        n = len(sampler) if sampler is not None else given.samples if given is not None else data.x.shape[0]
        steps = 0
        samples_done = 0
        min_gap = 1.0 / self.events_per_second
        last_event = time.perf_counter()
        start = time.perf_counter()
        stopped = False
        for epoch in range(1, cfg.epochs + 1):
            if sampler is not None:
                sampler.set_epoch(epoch)  # a new shuffle each epoch, the same on every rank
            total = torch.zeros((), device=device)
            meter.new_epoch(device)
            seen = 0
            for bx, by in self._batches(x, y, device, generator, loader, sampler):
                if not self.go.is_set():
                    paused_at = time.perf_counter()
                    self.go.wait()
                    start += time.perf_counter() - paused_at
                if self.stopping.is_set():
                    stopped = True
                    break
                out = trained(bx)
                loss = criterion(out, by)
                if counting:
                    meter.count(out, by, loss)
                optimizer.zero_grad()
                loss.backward()
                if health is not None:
                    health.before_step()
                optimizer.step()
                if health is not None:
                    health.after_step()
                batch = bx.shape[0]
                total.add_(loss.detach(), alpha=batch)
                seen += batch
                samples_done += batch
                steps += 1
                now = time.perf_counter()
                if now - last_event >= min_gap and seen < n:
                    last_event = now
                    yield self._progress(epoch, steps, total, seen, samples_done, now - start, False)
            if stopped:
                break
            if distributed:  # the epoch's loss (and the task's counts) over every rank's samples
                import torch.distributed as dist

                counts = torch.tensor([float(seen)], device=device)
                dist.all_reduce(total)
                dist.all_reduce(counts)
                for counted in meter.totals():
                    dist.all_reduce(counted)
                seen = int(counts.item())
            event = self._progress(epoch, steps, total, seen, samples_done, time.perf_counter() - start, True)
            self.loss_history.append(event.loss)
            last_event = time.perf_counter()
            yield event
        active = time.perf_counter() - start
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        return Result(
            final_loss=self.loss_history[-1] if self.loss_history else math.nan, epochs=len(self.loss_history),
            steps=steps, seconds=active, samples_per_s=samples_done / active if active > 0 else 0.0,
            device=device, loss_history=tuple(self.loss_history), stopped=stopped, task=cfg.task,
            metrics=meter.result(model, data, device))

    def _progress(self, epoch, step, total, seen, samples_done, elapsed, done) -> Progress:
        loss = total.item() / max(seen, 1)  # the one sync per event
        if not math.isfinite(loss):
            if self.health is not None:  # (what blew up, for the panel)
                self.health.measure_now()
            raise Diverged(epoch, step, self.cfg.lr)
        assert self.meter is not None and self.model is not None  # (made when the run starts)
        return Progress(epoch, self.cfg.epochs, step, loss, samples_done / elapsed if elapsed > 0 else 0.0, elapsed,
                        done, self.meter.progress(self.model, seen, done))


def train(cfg: RunConfig, on_progress=None) -> Result:
    """Run a whole training; `on_progress(Progress)` is called for each event."""
    return train_on(cfg, None, on_progress)


def train_on(cfg: RunConfig, data: Dataset | None, on_progress=None) -> Result:
    """train() on data already made (benchmarks reuse one dataset across runs)."""
    return drive(Trainer(cfg, data), on_progress)


def drive(trainer: Trainer, on_progress: Callable[[Progress], object] | None = None) -> Result:
    """Run a trainer to its end, handing each Progress to `on_progress`; the run's Result. The one
    place a trainer's generator is driven: the headless CLI, the kernel, the DDP ranks and the
    exported scripts' tests all come here."""
    gen = trainer.run()
    while True:
        try:
            event = next(gen)
        except StopIteration as done:
            return done.value
        if on_progress is not None:
            on_progress(event)
