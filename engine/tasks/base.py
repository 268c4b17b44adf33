"""The Task interface: what one kind of training is, for everything that trains, shows or exports
a run. The run's config and the settings schema live here too, so that the Training form, the
CLI and the trainer read one description of them.

Nothing here imports torch at import time (the app's process imports this module for the schema
and the words, and never imports torch): a task imports it inside the methods the kernel runs."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any, ClassVar

from engine.i18n import Said

if TYPE_CHECKING:
    from torch import Tensor, nn

DEFAULT_TASK = "regression"
OPTIMIZERS = ("sgd", "momentum", "adam")
LOADERS = ("dataloader", "tensor")
MAX_HIDDEN = 4096
MAX_PROCESSES = 64
MAX_LR = 1e6


@dataclass(frozen=True)
class RunConfig:
    """One training run; the defaults are the classic tutorial's (a task's own: its `defaults`)."""

    task: str = DEFAULT_TASK
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
    hidden: int = 16  # hidden units of a task's MLP
    processes: int = 1  # data-parallel ranks (engine.distributed); 1 trains in this process


FIELD_TYPES = {f.name: f.type for f in fields(RunConfig)}


@dataclass(frozen=True)
class Setting:
    """One field of the Training form (and flag of `torchtui train`): its RunConfig name, its
    kind ("int", "float", "bool", "choice" or "text"), its default for the task at hand, and the
    range the CLI takes (`above_low`: `low` itself excluded; `high_words`: the high end as said)."""

    name: str
    kind: str
    default: Any = None
    low: float | None = None
    high: float | None = None
    above_low: bool = False
    high_words: str = ""
    choices: tuple[str, ...] = ()


# Every setting a task may show, in the form's order. The ranges are sized to what a laptop trains
# in minutes to hours and the engine's own limits: past them a run would not end (--epochs 10**20)
# or not start (--batch-size 10**23, more than a slice can take).
SETTINGS: tuple[Setting, ...] = (
    Setting("samples", "int", low=2, high=100_000_000),
    Setting("features", "int", low=1, high=10_000),
    Setting("noise", "float", low=0.0, high=1e6),
    Setting("bias", "float", low=-1e6, high=1e6),
    Setting("data_seed", "int", low=0, high=2**32 - 1),
    Setting("batch_size", "int", low=1, high=100_000_000),
    Setting("epochs", "int", low=1, high=100_000),
    Setting("lr", "float", low=0.0, high=MAX_LR, above_low=True),
    Setting("seed", "int", low=0, high=2**63 - 1, high_words="2**63 - 1"),
    Setting("hidden", "int", low=1, high=MAX_HIDDEN),
    Setting("processes", "int", low=1, high=MAX_PROCESSES),
    Setting("optimizer", "choice", choices=OPTIMIZERS),
    Setting("loader", "choice", choices=LOADERS),
    Setting("device", "text"),
    Setting("shuffle", "bool"),
)


@dataclass(frozen=True)
class Dataset:
    """A task's data as tensors on the CPU: inputs `x` and targets `y`."""

    x: Tensor
    y: Tensor


@dataclass(frozen=True)
class Given:
    """The learner's own objects a run trains, for a task that takes them from the namespace
    (Task.given): the model (trained in place), the loss (a module or a function), the optimizer
    over the model's parameters, and the batches: a DataLoader to iterate, or None for the tensor
    loader over the run's Dataset; `samples`: how many one epoch sees."""

    model: Any
    loss: Any
    optimizer: Any
    loader: Any = None
    samples: int = 0


@dataclass(frozen=True)
class ScriptParts:
    """What a task puts into the scripts engine.exports writes: the one-process script (a
    str.format template) and its pieces of the data-parallel one."""

    single: str
    ddp: dict[str, str] = field(default_factory=dict)


class Meter(ABC):
    """What a task measures during one run, beyond the loss: `count` sees every batch's outputs,
    `totals` are the tensors summed over the ranks of a data-parallel run at each epoch's end."""

    def new_epoch(self, device: str) -> None:  # noqa: B027 - a task that counts nothing needs none
        """Start counting an epoch on `device`."""

    def count(self, outputs: Tensor, targets: Tensor, loss: Tensor | None = None) -> None:  # noqa: B027 - (as new_epoch)
        """One batch's outputs and loss (the step's own, before the optimizer moved the weights)."""

    def totals(self) -> tuple[Tensor, ...]:
        return ()

    def counting(self) -> bool:
        """Whether count() wants the batches (a task that only reads the model says no)."""
        return False

    @abstractmethod
    def progress(self, model: nn.Module, seen: int, epoch_done: bool) -> Any:
        """The task's part of a Progress event: a dataclass of its own (see Task.wire_classes)."""

    @abstractmethod
    def result(self, model: nn.Module, data: Dataset, device: str) -> Any:
        """The task's part of the run's Result: a dataclass of its own with an `as_json()`."""


class AccuracyMeter(Meter):
    """A Meter that counts an epoch's right answers of a classifier (the class its output gives the
    highest score) on the device, summed over the ranks, and keeps each epoch's accuracy."""

    def __init__(self) -> None:
        self.correct: Tensor | None = None
        self.history: list[float] = []

    def new_epoch(self, device: str) -> None:
        import torch

        self.correct = torch.zeros((), device=device, dtype=torch.long)

    def counting(self) -> bool:
        return True

    def count_right(self, outputs: Tensor, targets: Tensor) -> None:
        assert self.correct is not None  # (new_epoch comes first)
        self.correct.add_((outputs.detach().argmax(dim=1) == targets).sum())

    def totals(self) -> tuple[Tensor, ...]:
        return () if self.correct is None else (self.correct,)

    def accuracy(self, seen: int, epoch_done: bool) -> float:
        """The share of the epoch's `seen` samples so far classified right (one sync), kept in
        the history at an epoch's end."""
        assert self.correct is not None
        accuracy = self.correct.item() / max(seen, 1)
        if epoch_done:
            self.history.append(accuracy)
        return accuracy


class Task(ABC):
    """One kind of training. A subclass names itself, says what of the settings it shows and with
    which defaults, makes the data, the model and the loss, measures the run (its Meter), says
    what the plot under the loss curve draws, words its progress and its result through catalog
    keys, and writes its script. Registered in engine.tasks.TASKS."""

    name: ClassVar[str]
    words: ClassVar[str]  # catalog key of the task's name, as the form's choice shows it
    idle: ClassVar[str]  # catalog key of the status line before its first run
    hides: ClassVar[frozenset[str]] = frozenset()  # SETTINGS names this task has no use for
    defaults: ClassVar[dict[str, Any]] = {}  # its settings that differ from RunConfig's defaults
    plot: ClassVar[str]  # what the Training screen draws under the loss curve: "fit" or "boundary"
    curve: ClassVar[str | None] = None  # catalog key of the title of a second per-epoch curve, if any
    curve_name: ClassVar[str] = ""  # that curve's column in the exported CSV
    files: ClassVar[dict[str, str]]  # the export dialog's file names: "csv", "state_dict", "script"
    wire_classes: ClassVar[tuple[type, ...]] = ()  # its dataclasses that cross the wire (engine.wire)
    # The learner's objects this task trains, picked by kind from the namespace ("model", "data",
    # "loss", "optimizer"), where a task that makes its own has none: the trainer then takes a
    # Given instead of calling make_data, model and loss.
    given: ClassVar[tuple[str, ...]] = ()
    curve_measured: ClassVar[bool] = False  # the second curve is shown only once a run measures it
    no_script: ClassVar[str] = ""  # catalog key of why a run of this task exports no script (files lacks one)

    def config(self) -> RunConfig:
        """The starting config of this task."""
        return replace(RunConfig(), task=self.name, **self.defaults)

    def schema(self) -> tuple[Setting, ...]:
        """The settings this task shows, in the form's order, each with this task's default."""
        start = self.config()
        return tuple(replace(s, default=getattr(start, s.name)) for s in SETTINGS if s.name not in self.hides)

    def checks(self, cfg: RunConfig) -> list[tuple[str, bool, Said]]:
        """The task's own checks of a config: (field, ok, what is wrong), as make_config's."""
        return []

    @abstractmethod
    def make_data(self, cfg: RunConfig) -> Dataset:
        """The run's data (the trainer's, the replay's and the plot's)."""

    @abstractmethod
    def model(self, cfg: RunConfig) -> nn.Module:
        """A fresh model (the trainer seeds torch first)."""

    @abstractmethod
    def loss(self) -> nn.Module:
        """The criterion: loss(outputs, targets), a mean over the batch."""

    @abstractmethod
    def meter(self, cfg: RunConfig, data: Dataset, device: str) -> Meter:
        """What measures one run of this task."""

    def data_bytes(self, cfg: RunConfig) -> int:
        """Memory the data takes at its peak, to refuse sizes that would not fit: scikit-learn's
        float64 arrays plus torch's float32 copy."""
        values = cfg.samples * (cfg.features + 1)
        return values * (8 + 4) + cfg.samples * 8

    @abstractmethod
    def plot_points(self, cfg: RunConfig, data: Dataset, idx: list[int]) -> dict[str, Any]:
        """The points the plot under the loss curve draws (TrainData.points), from a sample `idx`."""

    def curve_point(self, metrics: Any) -> float | None:
        """The second curve's value in a Progress's metrics (None: the task has no such curve)."""
        return None

    def curve_history(self, metrics: Any) -> tuple[float, ...]:
        """The second curve's values per epoch, from a Result's metrics."""
        return ()

    @abstractmethod
    def status(self, metrics: Any) -> tuple[str, dict[str, Any]]:
        """The status line while a run goes: its catalog key, and the values of the task's part
        (the screen adds epoch, epochs, step, loss, rate, elapsed and device)."""

    @abstractmethod
    def epoch_line(self, epoch: int, epochs: int, loss: float, metrics: Any) -> Said:
        """What `torchtui train --headless` prints for an epoch."""

    @abstractmethod
    def result_lines(self, result: Any, cfg: RunConfig, *, cli: bool = False) -> list[Said]:
        """The run's result in words: the Training screen's lines (the last one, dimmed, says how
        to read them), or with `cli` what `torchtui train --headless` prints."""

    @abstractmethod
    def script(self) -> ScriptParts:
        """The pieces of the scripts a run of this task exports (engine.exports fills them in)."""
