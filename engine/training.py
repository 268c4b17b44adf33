"""Training without a UI, for two tasks: the linear regression (nn.Linear, MSELoss) compared with
the closed-form least-squares optimum, and classification of scikit-learn's two moons (a small
MLP, cross-entropy, accuracy, the decision boundary). Config and its checks, data, and a pausable
trainer that yields events."""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable, Generator
from dataclasses import asdict, dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any

from engine.i18n import Said, SaidError, said

if TYPE_CHECKING:
    from torch import Tensor, nn

TASKS = ("regression", "moons")
OPTIMIZERS = ("sgd", "momentum", "adam")
LOADERS = ("dataloader", "tensor")
EVENTS_PER_SECOND = 20
BOUNDARY_GRID = (48, 24)  # columns, rows of the decision boundary the moons task reports
MAX_HIDDEN = 4096
MAX_PROCESSES = 64


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


@dataclass(frozen=True)
class RunConfig:
    """One training run; the defaults are the classic tutorial's (the moons task's: TASK_DEFAULTS)."""

    task: str = "regression"
    samples: int = 100
    features: int = 1
    noise: float = 10.0
    bias: float = 1.5
    data_seed: int = 0
    batch_size: int = 16
    shuffle: bool = True
    epochs: int = 100
    lr: float = 0.01
    optimizer: str = "sgd"
    loader: str = "dataloader"
    device: str = "auto"
    seed: int = 0
    hidden: int = 16  # the moons MLP's hidden units
    processes: int = 1  # data-parallel ranks (engine.distributed); 1 trains in this process


TASK_DEFAULTS: dict[str, dict[str, Any]] = {
    "regression": {},
    # reaches 0.96 training accuracy in 100 epochs of 16 batches (about 0.3 s on one CPU core)
    "moons": {"samples": 500, "features": 2, "noise": 0.2, "batch_size": 32, "lr": 0.05, "optimizer": "momentum"},
}


def defaults(task: str = "regression") -> RunConfig:
    """The starting config of a task."""
    return replace(RunConfig(), task=task, **TASK_DEFAULTS.get(task, {}))


FIELD_TYPES = {f.name: f.type for f in fields(RunConfig)}


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


MAX_LR = 1e6


def make_config(**raw) -> RunConfig:
    """Build a RunConfig from strings or numbers, checking every field; raises ConfigError. Fields
    not given take the task's defaults."""
    unknown = set(raw) - set(FIELD_TYPES)
    if unknown:
        raise ConfigError(sorted(unknown)[0], said("err.config.unknown"))
    values = {name: _parse(name, value) for name, value in raw.items()}
    task = values.pop("task", "regression")
    if task not in TASKS:
        raise ConfigError("task", said("err.config.choose", choices=", ".join(TASKS)))
    cfg = replace(defaults(task), **values)
    checks = [
        ("samples", cfg.samples >= 2, said("err.config.samples")),
        ("features", cfg.features >= 1, said("err.config.features")),
        ("features", cfg.task != "moons" or cfg.features == 2, said("err.config.moons_features")),
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
    """Memory the dataset takes at its peak: scikit-learn's float64 arrays plus torch's float32 copy."""
    values = cfg.samples * (cfg.features + 1)
    return values * (8 + 4) + cfg.samples * 8


def available_bytes() -> int | None:
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


@dataclass(frozen=True)
class Dataset:
    """The regression data as float32 tensors on the CPU, with the coefficients that made it."""

    x: Tensor
    y: Tensor
    true_weight: tuple[float, ...]
    true_bias: float


def make_data(cfg: RunConfig) -> Dataset:
    """make_regression(...) as the tutorial calls it, or make_moons(...) for the moons task;
    refuses sizes that would not fit in memory."""
    need = dataset_bytes(cfg)
    free = available_bytes()
    if free is not None and need > free * 0.8:
        raise ConfigError("samples", said("err.config.memory", need=f"{need / 2**30:.1f}", free=f"{free / 2**30:.1f}"))
    import numpy as np
    import torch

    if cfg.task == "moons":
        from sklearn.datasets import make_moons

        x, y = make_moons(n_samples=cfg.samples, noise=cfg.noise, random_state=cfg.data_seed)
        return Dataset(torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.long), (), math.nan)
    from sklearn.datasets import make_regression

    x, y, coef = make_regression(n_samples=cfg.samples, n_features=cfg.features, noise=cfg.noise,
                                 coef=True, bias=cfg.bias, random_state=cfg.data_seed)
    coef = np.atleast_1d(coef)
    return Dataset(torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.float32).reshape(-1, 1),
                   tuple(float(c) for c in coef), float(cfg.bias))


def build_model(cfg: RunConfig):
    """nn.Linear(features, 1) for the regression; for the moons an MLP: 2 → hidden → 2 classes."""
    from torch import nn

    if cfg.task == "moons":
        return nn.Sequential(nn.Linear(2, cfg.hidden), nn.ReLU(), nn.Linear(cfg.hidden, 2))
    return nn.Linear(cfg.features, 1)


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


def boundary_grid(x, columns: int = BOUNDARY_GRID[0], rows: int = BOUNDARY_GRID[1]):
    """The points where the decision boundary is drawn: a rows × columns grid over the data with a
    margin, row 0 at the top. Returns (points as a (rows·columns, 2) tensor, (x0, x1, y0, y1))."""
    import torch

    lo, hi = x.min(dim=0).values, x.max(dim=0).values
    pad = (hi - lo) * 0.1
    lo, hi = lo - pad, hi + pad
    xs = torch.linspace(float(lo[0]), float(hi[0]), columns)
    ys = torch.linspace(float(hi[1]), float(lo[1]), rows)
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([gx.reshape(-1), gy.reshape(-1)], dim=1), (float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1]))


def least_squares(data: Dataset) -> tuple[tuple[float, ...], float, float]:
    """The closed-form optimum on the data (float64): weights, bias, and its mean squared error."""
    import numpy as np

    x = data.x.double().numpy()
    y = data.y.double().numpy().reshape(-1)
    design = np.hstack([x, np.ones((x.shape[0], 1))])
    solution, *_ = np.linalg.lstsq(design, y, rcond=None)
    mse = float(np.mean((design @ solution - y) ** 2))
    return tuple(float(v) for v in solution[:-1]), float(solution[-1]), mse


@dataclass(frozen=True)
class Progress:
    """Where a run is: sent at the end of each epoch (`epoch_done`) and, in long epochs, within it."""

    epoch: int
    epochs: int
    step: int
    loss: float  # the epoch's mean loss so far (weighted by batch size)
    weight: tuple[float, ...]
    bias: float
    samples_per_s: float
    elapsed: float
    epoch_done: bool
    accuracy: float | None = None  # moons: the share of the epoch's samples so far classified right
    boundary: str = ""  # moons: the class the model gives each boundary_grid point, one digit each


@dataclass(frozen=True)
class Result:
    """A finished (or stopped) run, with the least-squares optimum as the floor to compare with."""

    final_loss: float
    weight: tuple[float, ...]
    bias: float
    true_weight: tuple[float, ...]
    true_bias: float
    optimal_weight: tuple[float, ...]
    optimal_bias: float
    optimal_loss: float
    epochs: int
    steps: int
    seconds: float
    samples_per_s: float
    device: str
    loss_history: tuple[float, ...] = field(default=(), repr=False)
    stopped: bool = False
    task: str = "regression"
    accuracy: float | None = None  # moons: the final model on all the data
    accuracy_history: tuple[float, ...] = field(default=(), repr=False)
    hidden: int | None = None

    def as_json(self) -> dict:
        if self.task == "moons":
            keys: tuple[str, ...] = ("task", "final_loss", "accuracy", "hidden", "epochs", "steps", "seconds",
                                     "samples_per_s", "device")
        else:
            keys = ("task", "final_loss", "weight", "bias", "true_weight", "true_bias", "optimal_weight",
                    "optimal_bias", "optimal_loss", "epochs", "steps", "seconds", "samples_per_s", "device")
        data = asdict(self)
        return {k: list(data[k]) if isinstance(data[k], tuple) else data[k] for k in keys}


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
                 device: str | None = None, go=None, ddp: bool = False) -> None:
        """One process's trainer; with `world_size` > 1 it is rank `rank` of a process group that
        is already up (engine.distributed starts it, and sets `ddp`, even for a group of one): the
        model is wrapped in DDP and the data comes from this rank's DistributedSampler shard. `go` (an Event) can be shared by the
        ranks, so that one pause holds them all."""
        super().__init__(go)
        self.cfg = cfg
        self.events_per_second = events_per_second
        self.data = data
        self.rank, self.world_size = rank, world_size
        self.ddp = ddp or world_size > 1
        self.device = device
        self.model: nn.Module | None = None
        self.loss_history: list[float] = []
        self.accuracy_history: list[float] = []
        self._grid = None

    def _batches(self, x, y, device, generator, loader, sampler=None):
        """Yields (inputs, targets) on `device` for one epoch: from `loader` (a DataLoader) if
        given, else by shuffled index slicing of x and y, already on the device (in the order of
        this rank's `sampler` when there are several)."""
        import torch

        cfg = self.cfg
        if loader is not None:
            for bx, by in loader:
                yield bx.to(device, non_blocking=True), by.to(device, non_blocking=True)
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
        from torch import nn

        from engine.devices import resolve

        cfg = self.cfg
        device = self.device or resolve(cfg.device)
        data = self.data or make_data(cfg)
        self.data = data
        torch.manual_seed(cfg.seed)
        model = build_model(cfg).to(device)
        self.model = model
        distributed = self.ddp
        if distributed:  # every rank starts from the same weights (the seed); DDP averages the gradients
            from torch.nn.parallel import DistributedDataParallel

            trained = DistributedDataParallel(model, device_ids=[device] if device.startswith("cuda") else None)
        else:
            trained = model
        moons = cfg.task == "moons"
        criterion = nn.CrossEntropyLoss() if moons else nn.MSELoss()
        if moons:
            self._grid = boundary_grid(data.x)[0].to(device)
        optimizer = build_optimizer(cfg.optimizer, model.parameters(), cfg.lr)
        generator = torch.Generator().manual_seed(cfg.seed)
        from torch.utils.data import DataLoader, TensorDataset
        from torch.utils.data.distributed import DistributedSampler

        loader: DataLoader | None = None
        sampler: DistributedSampler | None = None

        if distributed:
            sampler = DistributedSampler(TensorDataset(data.x, data.y), num_replicas=self.world_size, rank=self.rank,
                                         shuffle=cfg.shuffle, seed=cfg.seed)
        if cfg.loader == "dataloader":
            if sampler is not None:
                loader = DataLoader(TensorDataset(data.x, data.y), batch_size=cfg.batch_size, sampler=sampler)
            else:
                loader = DataLoader(TensorDataset(data.x, data.y), batch_size=cfg.batch_size,
                                    shuffle=cfg.shuffle, generator=generator)
            x, y = data.x, data.y
        else:
            x, y = data.x.to(device), data.y.to(device)
        n = len(sampler) if sampler is not None else data.x.shape[0]
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
            correct = torch.zeros((), device=device, dtype=torch.long) if moons else None
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
                if correct is not None:
                    correct.add_((out.detach().argmax(dim=1) == by).sum())
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                batch = bx.shape[0]
                total.add_(loss.detach(), alpha=batch)
                seen += batch
                samples_done += batch
                steps += 1
                now = time.perf_counter()
                if now - last_event >= min_gap and seen < n:
                    last_event = now
                    yield self._progress(epoch, steps, total, seen, samples_done, now - start, False, correct)
            if stopped:
                break
            if distributed:  # the epoch's loss (and accuracy) over every rank's samples
                import torch.distributed as dist

                counts = torch.tensor([float(seen)], device=device)
                dist.all_reduce(total)
                dist.all_reduce(counts)
                if correct is not None:
                    dist.all_reduce(correct)
                seen = int(counts.item())
            event = self._progress(epoch, steps, total, seen, samples_done, time.perf_counter() - start, True,
                                   correct)
            self.loss_history.append(event.loss)
            if event.accuracy is not None:
                self.accuracy_history.append(event.accuracy)
            last_event = time.perf_counter()
            yield event
        active = time.perf_counter() - start
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        if moons:
            return self._moons_result(data, device, steps, active, samples_done, stopped)
        ow, ob, omse = least_squares(data)
        weight, bias = self._params()
        return Result(
            final_loss=self.loss_history[-1] if self.loss_history else float("nan"),
            weight=weight, bias=bias, true_weight=data.true_weight, true_bias=data.true_bias,
            optimal_weight=ow, optimal_bias=ob, optimal_loss=omse, epochs=len(self.loss_history),
            steps=steps, seconds=active, samples_per_s=samples_done / active if active > 0 else 0.0,
            device=device, loss_history=tuple(self.loss_history), stopped=stopped)

    def _moons_result(self, data, device, steps, active, samples_done, stopped) -> Result:
        import torch

        assert self.model is not None  # (built when the run starts)
        with torch.no_grad():
            accuracy = float((self.model(data.x.to(device)).argmax(dim=1).cpu() == data.y).float().mean())
        nan = math.nan
        return Result(
            final_loss=self.loss_history[-1] if self.loss_history else nan, weight=(), bias=nan,
            true_weight=(), true_bias=nan, optimal_weight=(), optimal_bias=nan, optimal_loss=nan,
            epochs=len(self.loss_history), steps=steps, seconds=active,
            samples_per_s=samples_done / active if active > 0 else 0.0, device=device,
            loss_history=tuple(self.loss_history), stopped=stopped, task="moons", accuracy=accuracy,
            accuracy_history=tuple(self.accuracy_history), hidden=self.cfg.hidden)

    def _params(self) -> tuple[tuple[float, ...], float]:
        if self.cfg.task == "moons":
            return (), math.nan
        from torch import nn

        linear = self.model
        assert isinstance(linear, nn.Linear)  # (the regression's model)
        w = linear.weight.detach().reshape(-1).cpu().tolist()
        return tuple(w), float(linear.bias.detach().cpu().item())

    def boundary(self) -> str:
        """The class the model gives each point of the boundary grid, as digits (moons only)."""
        import torch

        if self._grid is None or self.model is None:
            return ""
        with torch.no_grad():
            classes = self.model(self._grid).argmax(dim=1).cpu().tolist()
        return "".join(str(c) for c in classes)

    def _progress(self, epoch, step, total, seen, samples_done, elapsed, done, correct=None) -> Progress:
        loss = total.item() / max(seen, 1)  # the one sync per event
        if not math.isfinite(loss):
            raise Diverged(epoch, step, self.cfg.lr)
        weight, bias = self._params()
        accuracy = correct.item() / max(seen, 1) if correct is not None else None
        return Progress(epoch, self.cfg.epochs, step, loss, weight, bias,
                        samples_done / elapsed if elapsed > 0 else 0.0, elapsed, done, accuracy,
                        self.boundary() if correct is not None else "")


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
