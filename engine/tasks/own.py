"""Training the learner's own objects: their model, data, loss and optimizer, taken from the
namespace (by name from the Training form, or as `%train`'s arguments), trained in place by the
same trainer as the other tasks. The checks here turn a wrong argument into one sentence before
a run starts; the meter counts the loss of every step, and accuracy when the targets are class
labels."""

from __future__ import annotations

import math
import types
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from engine.i18n import Said, SaidError, said
from engine.tasks.base import SETTINGS, AccuracyMeter, Dataset, Given, RunConfig, ScriptParts, Task

if TYPE_CHECKING:
    from torch import Tensor, nn

KINDS = ("model", "data", "loss", "optimizer")  # the learner's objects a run takes, in %train's order
KIND_WORDS = {"model": "own.kind.model", "data": "own.kind.data", "loss": "own.kind.loss",
              "optimizer": "own.kind.optimizer"}
STEP_POINTS = 32  # per-step losses a progress event carries at most (means of equal runs of steps)
MAX_PAIRS = 12  # tensor pairs `X, y` the data picker offers


METRICS = ("auto", "accuracy", "none")  # %train's metric=: accuracy when the targets are labels, always, never


@dataclass(frozen=True)
class OwnData(Dataset):
    """The learner's tensors for the tensor loader (empty when a DataLoader gives the batches), and
    what the second curve measures (METRICS)."""

    metric: str = "auto"


class OwnError(SaidError, ValueError):
    """An object of the learner's that cannot be trained as given; says which and why, in one sentence."""


@dataclass(frozen=True)
class OwnProgress:
    """The epoch's accuracy so far (None: the targets are not class labels), and the loss of the
    steps since the last event (`first_step`: the number of the first), in at most STEP_POINTS means."""

    accuracy: float | None
    step_losses: tuple[float, ...] = ()
    first_step: int = 1
    steps_per_point: int = 1


@dataclass(frozen=True)
class OwnResult:
    """What the learner's model is, and each epoch's accuracy when the targets are class labels."""

    model: str
    parameters: int
    accuracy: float | None = None
    accuracy_history: tuple[float, ...] = field(default=(), repr=False)

    def as_json(self) -> dict:
        return {"model": self.model, "parameters": self.parameters, "accuracy": self.accuracy}


def _kind_of(value: Any) -> str:
    return type(value).__name__


def as_loader(data: Any, batch_size: int, shuffle: bool, seed: int) -> tuple[OwnData, Any, int]:
    """The run's batches from what the learner gave as DATA: (tensors for the tensor loader, or
    an empty Dataset; the DataLoader to iterate, or None; samples per epoch). A pair of tensors is
    sliced on the device; a Dataset gets a DataLoader; a DataLoader is used as it is."""
    import torch
    from torch.utils.data import DataLoader
    from torch.utils.data import Dataset as TorchDataset

    empty = OwnData(torch.zeros(0), torch.zeros(0))
    if isinstance(data, DataLoader):
        return empty, data, _length(data.dataset)
    if isinstance(data, TorchDataset):
        generator = torch.Generator().manual_seed(seed)
        return empty, DataLoader(data, batch_size=batch_size, shuffle=shuffle, generator=generator), _length(data)
    if isinstance(data, (tuple, list)) and len(data) == 2 and all(isinstance(t, torch.Tensor) for t in data):
        x, y = data
        if x.dim() == 0 or y.dim() == 0 or x.shape[0] != y.shape[0]:
            raise OwnError("own.err.pair_lengths", x=str(tuple(x.shape)), y=str(tuple(y.shape)))
        if x.shape[0] == 0:
            raise OwnError("own.err.no_samples")
        return OwnData(x.detach(), y.detach()), None, int(x.shape[0])
    raise OwnError("own.err.data", kind=_kind_of(data))


def _length(dataset: Any) -> int:
    try:
        return int(len(dataset))
    except TypeError:  # an IterableDataset: no length; no mid-epoch event is skipped for it
        return 2**62


def check_objects(model: Any, data: Any, loss: Any, optimizer: Any, *, batch_size: int, shuffle: bool = True,
                  seed: int = 0, metric: str = "auto") -> tuple[Given, OwnData]:
    """The learner's objects as a run takes them, or an OwnError that names the wrong one."""
    import torch
    from torch import nn

    if not isinstance(model, nn.Module):
        raise OwnError("own.err.model", kind=_kind_of(model))
    if isinstance(model, nn.modules.loss._Loss):
        raise OwnError("own.err.model_is_loss", kind=_kind_of(model))
    if not (isinstance(loss, nn.Module) or callable(loss)) or isinstance(loss, type):
        raise OwnError("own.err.loss", kind=_kind_of(loss))
    if metric not in METRICS:
        raise OwnError("own.err.metric", metric=repr(metric), choices=", ".join(METRICS))
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise OwnError("own.err.optimizer", kind=_kind_of(optimizer))
    own = {id(p) for p in model.parameters()}
    stepped = [p for group in optimizer.param_groups for p in group["params"]]
    if not stepped or any(id(p) not in own for p in stepped):  # a step would change another model (or none)
        raise OwnError("own.err.foreign_optimizer", model=_kind_of(model))
    tensors, loader, samples = as_loader(data, batch_size, shuffle, seed)
    return Given(model, loss, optimizer, loader, samples), replace(tensors, metric=metric)


def first_batch(given: Given, data: Dataset, batch_size: int):
    """The run's first (inputs, targets), read without moving the learner's random state."""
    import torch

    if given.loader is None:
        return data.x[:batch_size], data.y[:batch_size]
    # a shuffling DataLoader draws its order from its generator (its sampler's), or torch's
    generators = {id(g): g for g in (getattr(given.loader, "generator", None),
                                     getattr(getattr(given.loader, "sampler", None), "generator", None))
                  if isinstance(g, torch.Generator)}
    states = [(g, g.get_state()) for g in generators.values()]
    state = torch.random.get_rng_state()
    try:
        batch = next(iter(given.loader))
    except StopIteration:
        raise OwnError("own.err.no_samples") from None
    except Exception as exc:  # noqa: BLE001 - the learner's Dataset's own error, said in one line
        raise OwnError("own.err.batch_failed", error=_first_line(exc)) from None
    finally:
        torch.random.set_rng_state(state)
        for generator, saved in states:
            generator.set_state(saved)
    if not (isinstance(batch, (tuple, list)) and len(batch) == 2
            and all(isinstance(t, torch.Tensor) for t in batch)):
        raise OwnError("own.err.batch", kind=_kind_of(batch))
    return batch[0], batch[1]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def preflight(given: Given, data: Dataset, batch_size: int, device: str) -> None:
    """One forward and loss on the first batch, in eval mode and without gradients, so that a
    model that rejects the data or a loss that is not a scalar is said before the run starts.
    Nothing of the model changes: each module's train flag comes back, no gradient is made, and
    batch-norm statistics are not updated (eval mode)."""
    import torch

    bx, by = first_batch(given, data, batch_size)
    model = given.model
    flags = [(m, m.training) for m in model.modules()]
    try:
        model.eval()
        with torch.no_grad():
            try:
                out = model(bx.to(device))
            except Exception as exc:  # noqa: BLE001 - a shape error, most often: one sentence
                raise OwnError("own.err.forward", shape=str(tuple(bx.shape)), error=_first_line(exc)) from None
            try:
                value = given.loss(out, by.to(device))
            except Exception as exc:  # noqa: BLE001 - (as above)
                raise OwnError("own.err.loss_failed", error=_first_line(exc)) from None
    finally:
        for module, flag in flags:
            module.training = flag
    if not isinstance(value, torch.Tensor):
        raise OwnError("own.err.loss_value", kind=_kind_of(value))
    if value.dim() != 0:
        raise OwnError("own.err.loss_scalar", shape=str(tuple(value.shape)))
    if getattr(data, "metric", "auto") == "accuracy" and not class_labels(out, by):
        raise OwnError("own.err.not_labels", dtype=str(by.dtype).removeprefix("torch."), shape=str(tuple(out.shape)))


def class_labels(outputs: Tensor, targets: Tensor) -> bool:
    """Whether the targets are class labels of the outputs: integers, one per row of a 2-D output."""
    import torch

    return (not targets.dtype.is_floating_point and not targets.dtype.is_complex and targets.dtype != torch.bool
            and targets.dim() == 1 and outputs.dim() == 2 and outputs.shape[0] == targets.shape[0])


def device_of(model: nn.Module) -> str:
    """Where the model's weights are (the CPU for a model without any): a run's default device."""
    for tensor in model.parameters():
        return str(tensor.device)
    return "cpu"


def names_by_kind(namespace: dict) -> dict[str, tuple[str, ...]]:
    """The namespace's names of each kind a run takes, for the form's pickers: modules (not losses),
    data (DataLoaders, Datasets, pairs of tensors, and `X, y` for two tensors of as many rows),
    losses (loss modules and functions of the learner's) and optimizers."""
    import torch
    from torch import nn
    from torch.utils.data import DataLoader
    from torch.utils.data import Dataset as TorchDataset

    found: dict[str, list[str]] = {k: [] for k in KINDS}
    tensors: list[tuple[str, Any]] = []
    for name, value in list(namespace.items()):
        if name.startswith("_"):
            continue
        if isinstance(value, nn.modules.loss._Loss):
            found["loss"].append(name)
        elif isinstance(value, nn.Module):
            found["model"].append(name)
        elif isinstance(value, torch.optim.Optimizer):
            found["optimizer"].append(name)
        elif isinstance(value, (DataLoader, TorchDataset)):
            found["data"].append(name)
        elif isinstance(value, tuple) and len(value) == 2 and all(isinstance(t, torch.Tensor) for t in value):
            found["data"].append(name)
        elif isinstance(value, types.FunctionType) and value.__module__ in ("__main__", "builtins"):
            found["loss"].append(name)  # a function of the learner's own (those of modules are not losses)
        elif isinstance(value, torch.Tensor) and value.dim() >= 1 and value.shape[0] >= 2:
            tensors.append((name, value))
    # inputs, then targets: as many rows, and targets of no more dimensions than the inputs
    pairs = [f"{a}, {b}" for a, x in tensors for b, y in tensors if a != b and x.shape[0] == y.shape[0]
             and y.dim() <= min(2, x.dim())]
    found["data"].extend(pairs[:MAX_PAIRS])
    return {k: tuple(v) for k, v in found.items()}


def look_up(namespace: dict, kind: str, name: str) -> Any:
    """The object a picker's name stands for (`X, y`: the pair of tensors); OwnError if gone."""
    parts = [p.strip() for p in name.split(",")] if kind == "data" and "," in name else [name]
    missing = [p for p in parts if p not in namespace]
    if not name or missing:
        raise OwnError("own.err.missing", kind=said(KIND_WORDS[kind]), name=name)
    values = [namespace[p] for p in parts]
    return tuple(values) if len(values) > 1 else values[0]


class OwnMeter(AccuracyMeter):
    """Every step's loss (kept on the device, read once per event) and, when the targets are
    class labels (integers, one per row of a 2-D output), the epoch's accuracy."""

    def __init__(self, metric: str = "auto") -> None:
        super().__init__()
        self.metric = metric
        self.steps: list[Tensor] = []
        self.step = 1  # the number of the first step in self.steps
        self.labels: bool | None = None  # whether the targets are class labels (seen at the first batch)

    def count(self, outputs: Tensor, targets: Tensor, loss: Tensor | None = None) -> None:
        if loss is not None:
            self.steps.append(loss.detach())
        if self.labels is None:
            self.labels = self.metric != "none" and class_labels(outputs, targets)
        if self.labels:
            self.count_right(outputs, targets)

    def progress(self, model: nn.Module, seen: int, epoch_done: bool) -> OwnProgress:
        import torch

        accuracy = self.accuracy(seen, epoch_done) if self.labels and self.correct is not None else None
        losses = torch.stack(self.steps).float().cpu().tolist() if self.steps else []
        first, self.step = self.step, self.step + len(losses)
        self.steps = []
        per = max(1, math.ceil(len(losses) / STEP_POINTS))
        means = tuple(sum(losses[i:i + per]) / len(losses[i:i + per]) for i in range(0, len(losses), per))
        return OwnProgress(accuracy, means, first, per)

    def result(self, model: nn.Module, data: Dataset, device: str) -> OwnResult:
        count = sum(p.numel() for p in model.parameters())
        return OwnResult(type(model).__name__, count, self.history[-1] if self.history else None, tuple(self.history))


def _not_here() -> OwnError:
    return OwnError("own.err.from_namespace")


class Own(Task):
    name = "own"
    words = "own.task"
    idle = "own.idle"
    hides = frozenset(s.name for s in SETTINGS) - {"epochs", "batch_size", "device"}
    defaults = {"epochs": 10}
    given = KINDS
    plot = "steps"
    curve = "tr.plot.accuracy"
    curve_name = "accuracy"
    curve_measured = True
    no_script = "own.no_script"
    files = {"csv": "my_model_history.csv", "state_dict": "my_model.pt"}
    wire_classes = (OwnProgress, OwnResult)

    def make_data(self, cfg: RunConfig) -> Dataset:
        raise _not_here()

    def model(self, cfg: RunConfig) -> nn.Module:
        raise _not_here()

    def loss(self) -> nn.Module:
        raise _not_here()

    def meter(self, cfg: RunConfig, data: Dataset, device: str) -> OwnMeter:
        return OwnMeter(getattr(data, "metric", "auto"))

    def data_bytes(self, cfg: RunConfig) -> int:
        return 0  # the learner's data is in memory already

    def plot_points(self, cfg: RunConfig, data: Dataset, idx: list[int]) -> dict[str, Any]:
        return {}

    def curve_point(self, metrics: OwnProgress) -> float | None:
        return metrics.accuracy

    def curve_history(self, metrics: OwnResult) -> tuple[float, ...]:
        return metrics.accuracy_history

    def status(self, metrics: OwnProgress) -> tuple[str, dict[str, Any]]:
        step_loss = f"{metrics.step_losses[-1]:.4f}" if metrics.step_losses else "…"
        if metrics.accuracy is None:
            return "own.status", {"step_loss": step_loss}
        return "own.status_accuracy", {"step_loss": step_loss, "accuracy": f"{metrics.accuracy:.3f}"}

    def epoch_line(self, epoch: int, epochs: int, loss: float, metrics: OwnProgress) -> Said:
        return said("cli.train.epoch", epoch=epoch, epochs=epochs, loss=f"{loss:.4f}")

    def result_lines(self, result: Any, cfg: RunConfig, *, cli: bool = False) -> list[Said]:
        m: OwnResult = result.metrics
        loss = f"{result.final_loss:.4f}"
        first = (said("own.result", loss=loss, model=m.model, parameters=f"{m.parameters:,}") if m.accuracy is None
                 else said("own.result_accuracy", loss=loss, accuracy=f"{m.accuracy:.3f}", model=m.model,
                           parameters=f"{m.parameters:,}"))
        return [first, said("own.floor", device=result.device)]

    def script(self) -> ScriptParts:
        raise OwnError(self.no_script)
