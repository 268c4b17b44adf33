"""Linear regression training without a UI: config and its checks, data, a pausable trainer that
yields events, and the result compared with the closed-form least-squares optimum."""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields, replace

OPTIMIZERS = ("sgd", "momentum", "adam")
LOADERS = ("dataloader", "tensor")
EVENTS_PER_SECOND = 20


class ConfigError(ValueError):
    """A config field the user got wrong; `field` names it."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name


class Diverged(RuntimeError):
    """The loss became NaN or Inf; says where, and suggests a lower learning rate."""

    def __init__(self, epoch: int, step: int, lr: float) -> None:
        super().__init__(f"training diverged: the loss became NaN/Inf in epoch {epoch} (by step {step}); "
                         f"try a lower learning rate than {lr:g}")
        self.epoch, self.step = epoch, step


@dataclass(frozen=True)
class RunConfig:
    """One training run; the defaults are the classic tutorial's."""

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
        raise ConfigError(name, f"expected yes or no, got {value!r}")
    if kind == "int":
        try:
            if isinstance(value, float) and value.is_integer():
                return int(value)
            return int(str(value).strip())
        except ValueError:
            raise ConfigError(name, f"expected a whole number, got {value!r}") from None
    if kind == "float":
        try:
            number = float(str(value).strip())
        except ValueError:
            raise ConfigError(name, f"expected a number, got {value!r}") from None
        if not math.isfinite(number):
            raise ConfigError(name, f"expected a finite number, got {value!r}")
        return number
    return str(value).strip().lower()


MAX_LR = 1e6


def make_config(**raw) -> RunConfig:
    """Build a RunConfig from strings or numbers, checking every field; raises ConfigError."""
    unknown = set(raw) - set(FIELD_TYPES)
    if unknown:
        raise ConfigError(sorted(unknown)[0], "unknown field")
    values = {name: _parse(name, value) for name, value in raw.items()}
    cfg = replace(RunConfig(), **values)
    checks = [
        ("samples", cfg.samples >= 2, "needs at least 2 samples"),
        ("features", cfg.features >= 1, "needs at least 1 feature"),
        ("noise", cfg.noise >= 0, "noise cannot be negative"),
        ("batch_size", cfg.batch_size >= 1, "batch size must be at least 1"),
        ("epochs", cfg.epochs >= 1, "needs at least 1 epoch"),
        ("lr", cfg.lr > 0, "the learning rate must be greater than 0"),
        ("lr", cfg.lr <= MAX_LR, f"the learning rate must be at most {MAX_LR:g} (float32 holds the weights)"),
        ("data_seed", 0 <= cfg.data_seed <= 2**32 - 1,
         "the data seed must be between 0 and 4294967295 (scikit-learn's random_state)"),
        ("seed", 0 <= cfg.seed <= 2**63 - 1, "the torch seed must be between 0 and 2**63 - 1"),
        ("optimizer", cfg.optimizer in OPTIMIZERS, f"choose one of {', '.join(OPTIMIZERS)}"),
        ("loader", cfg.loader in LOADERS, f"choose one of {', '.join(LOADERS)}"),
    ]
    for name, ok, message in checks:
        if not ok:
            raise ConfigError(name, message)
    from engine.devices import DeviceError, check_syntax

    try:
        check_syntax(cfg.device)
    except DeviceError as exc:
        raise ConfigError("device", str(exc)) from None
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

    x: object
    y: object
    true_weight: tuple[float, ...]
    true_bias: float


def make_data(cfg: RunConfig) -> Dataset:
    """make_regression(...) as the tutorial calls it; refuses sizes that would not fit in memory."""
    need = dataset_bytes(cfg)
    free = available_bytes()
    if free is not None and need > free * 0.8:
        raise ConfigError("samples", f"the dataset needs about {need / 2**30:.1f} GiB but only "
                                     f"{free / 2**30:.1f} GiB of memory is free: use fewer samples or features")
    import numpy as np
    import torch
    from sklearn.datasets import make_regression

    x, y, coef = make_regression(n_samples=cfg.samples, n_features=cfg.features, noise=cfg.noise,
                                 coef=True, bias=cfg.bias, random_state=cfg.data_seed)
    coef = np.atleast_1d(coef)
    return Dataset(torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.float32).reshape(-1, 1),
                   tuple(float(c) for c in coef), float(cfg.bias))


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

    def as_json(self) -> dict:
        keys = ("final_loss", "weight", "bias", "true_weight", "true_bias", "optimal_weight", "optimal_bias",
                "optimal_loss", "epochs", "steps", "seconds", "samples_per_s", "device")
        data = asdict(self)
        return {k: list(data[k]) if isinstance(data[k], tuple) else data[k] for k in keys}


def build_optimizer(name: str, params, lr: float):
    import torch

    if name == "sgd":
        return torch.optim.SGD(params, lr=lr)
    if name == "momentum":
        return torch.optim.SGD(params, lr=lr, momentum=0.9)
    return torch.optim.Adam(params, lr=lr)


class Trainer:
    """Trains one RunConfig; `run()` yields Progress events and returns a Result.

    pause(), resume() and stop() may be called from any thread and take effect within one step.
    """

    def __init__(self, cfg: RunConfig, data: Dataset | None = None,
                 events_per_second: float = EVENTS_PER_SECOND) -> None:
        self.cfg = cfg
        self.events_per_second = events_per_second
        self.data = data
        self.model = None
        self.loss_history: list[float] = []
        self._go = threading.Event()
        self._go.set()
        self._stop = threading.Event()

    def pause(self) -> None:
        self._go.clear()

    def resume(self) -> None:
        self._go.set()

    def stop(self) -> None:
        self._stop.set()
        self._go.set()

    @property
    def paused(self) -> bool:
        return not self._go.is_set()

    def _batches(self, x, y, device, generator, loader):
        """Yields (inputs, targets) on `device` for one epoch: from `loader` (a DataLoader) if
        given, else by shuffled index slicing of x and y, already on the device."""
        import torch

        cfg = self.cfg
        if loader is not None:
            for bx, by in loader:
                yield bx.to(device, non_blocking=True), by.to(device, non_blocking=True)
            return
        n = x.shape[0]
        order = torch.randperm(n, generator=generator).to(device) if cfg.shuffle else None
        for start in range(0, n, cfg.batch_size):
            if order is None:
                yield x[start:start + cfg.batch_size], y[start:start + cfg.batch_size]
            else:
                idx = order[start:start + cfg.batch_size]
                yield x[idx], y[idx]

    def run(self) -> Iterator[Progress]:
        """Train, yielding Progress; the generator's return value (StopIteration.value) is the Result."""
        import torch
        from torch import nn

        from engine.devices import resolve

        cfg = self.cfg
        device = resolve(cfg.device)
        data = self.data or make_data(cfg)
        self.data = data
        torch.manual_seed(cfg.seed)
        model = nn.Linear(cfg.features, 1).to(device)
        self.model = model
        criterion = nn.MSELoss()
        optimizer = build_optimizer(cfg.optimizer, model.parameters(), cfg.lr)
        generator = torch.Generator().manual_seed(cfg.seed)
        loader = None
        if cfg.loader == "dataloader":
            from torch.utils.data import DataLoader, TensorDataset

            loader = DataLoader(TensorDataset(data.x, data.y), batch_size=cfg.batch_size,
                                shuffle=cfg.shuffle, generator=generator)
            x, y = data.x, data.y
        else:
            x, y = data.x.to(device), data.y.to(device)
        n = data.x.shape[0]
        steps = 0
        samples_done = 0
        min_gap = 1.0 / self.events_per_second
        last_event = time.perf_counter()
        start = time.perf_counter()
        stopped = False
        for epoch in range(1, cfg.epochs + 1):
            total = torch.zeros((), device=device)
            seen = 0
            for bx, by in self._batches(x, y, device, generator, loader):
                if not self._go.is_set():
                    paused_at = time.perf_counter()
                    self._go.wait()
                    start += time.perf_counter() - paused_at
                if self._stop.is_set():
                    stopped = True
                    break
                loss = criterion(model(bx), by)
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
                    yield self._progress(epoch, steps, total, seen, samples_done, now - start, False)
            if stopped:
                break
            event = self._progress(epoch, steps, total, seen, samples_done, time.perf_counter() - start, True)
            self.loss_history.append(event.loss)
            last_event = time.perf_counter()
            yield event
        active = time.perf_counter() - start
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        ow, ob, omse = least_squares(data)
        weight, bias = self._params()
        return Result(
            final_loss=self.loss_history[-1] if self.loss_history else float("nan"),
            weight=weight, bias=bias, true_weight=data.true_weight, true_bias=data.true_bias,
            optimal_weight=ow, optimal_bias=ob, optimal_loss=omse, epochs=len(self.loss_history),
            steps=steps, seconds=active, samples_per_s=samples_done / active if active > 0 else 0.0,
            device=device, loss_history=tuple(self.loss_history), stopped=stopped)

    def _params(self) -> tuple[tuple[float, ...], float]:
        w = self.model.weight.detach().reshape(-1).cpu().tolist()
        return tuple(w), float(self.model.bias.detach().cpu().item())

    def _progress(self, epoch, step, total, seen, samples_done, elapsed, done) -> Progress:
        loss = total.item() / max(seen, 1)  # the one sync per event
        if not math.isfinite(loss):
            raise Diverged(epoch, step, self.cfg.lr)
        weight, bias = self._params()
        return Progress(epoch, self.cfg.epochs, step, loss, weight, bias,
                        samples_done / elapsed if elapsed > 0 else 0.0, elapsed, done)


def train(cfg: RunConfig, on_progress=None) -> Result:
    """Run a whole training; `on_progress(Progress)` is called for each event."""
    return train_on(cfg, None, on_progress)


def train_on(cfg: RunConfig, data: Dataset | None, on_progress=None) -> Result:
    """train() on data already made (benchmarks reuse one dataset across runs)."""
    trainer = Trainer(cfg, data)
    gen = trainer.run()
    while True:
        try:
            event = next(gen)
        except StopIteration as done:
            return done.value
        if on_progress:
            on_progress(event)
