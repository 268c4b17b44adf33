"""The conversation between the app and the kernel, typed: every request the app can make and what
it answers, every event the kernel sends unasked, and the wire format of both.

Both processes import this module, so it stays cheap and torch-free. A request is a frozen
dataclass subclassing `Request[A]`, where `A` is the type of its answer: `Hello(device="cpu")`
answers a `Welcome`. An event is a frozen dataclass subclassing `Event`. Names cross the wire as
class names; only classes defined here are rebuilt from a message, so a message can never make the
receiver build anything else.

    app                                         kernel (engine.kernel.bridge)
    encode_request(Hello(...), id)   ── comm ─▶  decode_request(data) -> Hello
    decode_reply(data) -> Welcome    ◀─ comm ──  encode_reply(id, Welcome(...)) / encode_refusal
    decode_event(data) -> Variables  ◀─ comm ──  encode_event(Variables(rows))
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from engine.i18n import Said
from engine.wire import from_wire, known_classes, to_wire

if TYPE_CHECKING:  # (the engine's result types: imported when a message is first decoded, not before)
    from engine.autograd import ForwardRow, Recording
    from engine.distributed import DistributedResult
    from engine.grad_health import HealthSnapshot
    from engine.gradcheck import GradCheck  # noqa: F401 - named in a quoted base class below
    from engine.model_view import ModelSummary
    from engine.repl.variables import Variable, VariableDetails  # noqa: F401 - (the same)
    from engine.tour import CheckResult  # noqa: F401 - (the same)
    from engine.training import Progress, Result

A = TypeVar("A")
REQUEST_TIMEOUT_S = 30.0


class Request(Generic[A]):
    """A question for the kernel; `A` is what it answers. `timeout`: the longest the app waits."""

    timeout: ClassVar[float] = REQUEST_TIMEOUT_S


class Event:
    """News the kernel sends unasked: the variables after a cell, a training run's progress."""


# --- requests ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Inspected:
    """A recorded backward pass as the Autograd screen shows it; `token` names it in later requests."""

    token: int
    recording: Recording
    forward_rows: tuple[ForwardRow, ...]
    passes: int = 1
    title: str = ""  # %autograd's expression (a built-in example is worded by the app: `example`)
    code: str = ""
    note: str = ""  # the catalog key of what a differing gradient check means here
    example: str = ""  # the built-in example's key
    checkable: bool = False  # whether the forward can be run again, as the gradient check needs


@dataclass(frozen=True)
class StepValues:
    """One tensor of a backward step in full (bounded), with its summary line."""

    kind: str  # grad_in, to, after, saved
    name: str
    summary: str
    values: Any


@dataclass(frozen=True)
class Welcome:
    """What a kernel says once torchtui's extension is loaded."""

    torch: str
    device: str  # the device `auto` resolved to
    device_text: str  # the status line's words for it
    python: str
    modules: tuple[str, ...] = ()  # which of torch, np, nn, optim, F hold those modules in the namespace


@dataclass(frozen=True)
class Hello(Request[Welcome]):
    """The first request: resolve the device, speak the app's language."""

    device: str = "auto"
    lang: str = "en"
    timeout: ClassVar[float] = 120.0  # torch's first import on a cold disk


@dataclass(frozen=True)
class DeviceStatus(Request[str]):
    """The status line's words for a device (memory in use, for a GPU)."""

    device: str
    timeout: ClassVar[float] = 5.0


@dataclass(frozen=True)
class DescribeVariable(Request["VariableDetails | None"]):
    """Everything about one name in the namespace (None: there is no such name)."""

    name: str
    timeout: ClassVar[float] = 10.0


@dataclass(frozen=True)
class Signature(Request["str | None"]):
    """The call signature of what `name` holds, for the editor's hint."""

    name: str
    timeout: ClassVar[float] = 2.0


@dataclass(frozen=True)
class TourCheck(Request["CheckResult"]):
    """Whether the namespace shows a Learn chapter's exercise done."""

    chapter: str


@dataclass(frozen=True)
class DisplayWidth(Request[bool]):
    """Print and plot at the log's width; True where the kernel's print options followed."""

    width: int
    timeout: ClassVar[float] = 10.0


@dataclass(frozen=True)
class LiveExport(Request[str]):
    """Write the live() series as CSV; answers the path written."""

    path: str


@dataclass(frozen=True)
class GradExample(Request[Inspected]):
    """Build, run and record one of the Autograd screen's examples."""

    key: str
    timeout: ClassVar[float] = 120.0


@dataclass(frozen=True)
class CheckGradients(Request["GradCheck"]):
    """Check a recording's gradients against finite differences."""

    token: int
    timeout: ClassVar[float] = 120.0


@dataclass(frozen=True)
class GradValues(Request[tuple[StepValues, ...]]):
    """Every value of one backward step's tensors, for the values view."""

    token: int
    index: int
    timeout: ClassVar[float] = 60.0


@dataclass(frozen=True)
class TrainStart(Request[int]):
    """Start a run (the one going on stops); its events carry `tag`. Answers the kernel's run number."""

    config: dict[str, Any]  # RunConfig's fields; the kernel checks them
    tag: int = 0
    names: dict[str, str] = field(default_factory=dict)  # the learner's objects by kind, for a task with Task.given
    timeout: ClassVar[float] = 60.0


@dataclass(frozen=True)
class OwnNames(Request[dict[str, tuple[str, ...]]]):
    """The namespace's names of each kind a run of the learner's own objects takes (model, data,
    loss, optimizer), for the Training form's pickers."""

    timeout: ClassVar[float] = 10.0


@dataclass(frozen=True)
class TrainPause(Request["bool | None"]):
    """Pause the run going on: True (paused), None when none is going."""


@dataclass(frozen=True)
class TrainResume(Request["bool | None"]):
    """Resume the run going on: False (not paused), None when none is going."""


@dataclass(frozen=True)
class TrainStop(Request[bool]):
    """Stop the run going on: True when one was."""


@dataclass(frozen=True)
class TrainExport(Request[str]):
    """Write the last run's loss (csv), weights (state_dict) or script; answers the path written."""

    kind: str
    path: str


@dataclass(frozen=True)
class DescribeModel(Request["ModelSummary"]):
    """A module of the namespace (`name`: a name, or a dotted path to a submodule) as the Model view
    shows it; `input`: a sample input as typed (a tensor's name, a shape such as `(32, 4)`, a
    DataLoader or Dataset, `@batch` for the last Training run's first batch; "": none)."""

    name: str
    input: str = ""
    timeout: ClassVar[float] = 120.0  # the forward of a big model on a busy device


@dataclass(frozen=True)
class ModelNames(Request[tuple[tuple[str, str], ...]]):
    """(name, class) of each nn.Module in the namespace, for the Model view's picker."""

    timeout: ClassVar[float] = 10.0


@dataclass(frozen=True)
class TorchMemory:
    """One CUDA device's memory as PyTorch's caching allocator counts it in the kernel's process."""

    device: str  # "cuda:0"
    allocated: int  # bytes held by tensors (torch.cuda.memory_allocated)
    reserved: int  # bytes the allocator holds from the driver (memory_reserved)
    peak: int  # the most allocated since the start or the last reset (max_memory_allocated)


@dataclass(frozen=True)
class CudaMemory(Request[tuple[TorchMemory, ...]]):
    """PyTorch's memory on each CUDA device of the kernel (none: no CUDA there)."""

    timeout: ClassVar[float] = 5.0


@dataclass(frozen=True)
class ResetPeakMemory(Request[int]):
    """torch.cuda.reset_peak_memory_stats on every CUDA device; answers how many were reset."""

    timeout: ClassVar[float] = 5.0


@dataclass(frozen=True)
class MemorySummary(Request[str]):
    """torch.cuda.memory_summary() of one device ("" without CUDA)."""

    device: str = "cuda:0"
    timeout: ClassVar[float] = 10.0


# --- events ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Variables(Event):
    """The namespace's tensors and models after a cell."""

    rows: tuple[Variable, ...] = ()


@dataclass(frozen=True)
class AutogradShown(Event):
    """A cell ran %autograd: its recording, for the inspector."""

    inspection: Inspected


@dataclass(frozen=True)
class ModelShown(Event):
    """A cell ran %model: its summary, for the Model view."""

    summary: ModelSummary


@dataclass(frozen=True)
class TrainData(Event):
    """The points a run's plot draws under its curve (a sample of the data), as its task shapes them."""

    run: int
    task: str
    points: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TrainProgress(Event):
    run: int
    progress: Progress


@dataclass(frozen=True)
class TrainShown(Event):
    """A cell ran %train: the run it started (its events carry `run`), for the Training screen to follow.
    `config`: the run's RunConfig fields; `names`: the arguments as typed, by kind."""

    run: int
    config: dict[str, Any] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TrainRate(Event):
    """One data-parallel rank's speed, samples a second."""

    run: int
    rank: int
    rate: float


@dataclass(frozen=True)
class TrainHealth(Event):
    """The gradients of a run's model at its latest measured step (a data-parallel run: rank 0's,
    which after the all-reduce are every rank's), sent at the redraw rate."""

    run: int
    health: HealthSnapshot


@dataclass(frozen=True)
class TrainFinished(Event):
    """A run ended: its result, or the error that ended it. `model_name`: where the model is now."""

    run: int
    result: Result | None = None
    error: Said | None = None
    model_name: str = ""
    distributed: DistributedResult | None = None
    replay: float | None = None  # a DDP run: how far a one-process replay's weights are from its own


@dataclass(frozen=True)
class LiveSeries(Event):
    """New points of live() series (each downsampled); `new_run`: a fresh run began."""

    run: int
    new_run: bool
    series: dict[str, Any] = field(default_factory=dict)


# --- the wire ----------------------------------------------------------------------------------
def _defined_here(base: type) -> dict[str, type]:
    return {name: value for name, value in globals().items()
            if isinstance(value, type) and issubclass(value, base) and value is not base
            and dataclasses.is_dataclass(value)}


REQUESTS: dict[str, type[Request[Any]]] = _defined_here(Request)
EVENTS: dict[str, type[Event]] = _defined_here(Event)
ANSWERS: dict[str, type] = {cls.__name__: cls for cls in (Welcome, Inspected, StepValues, TorchMemory)}


@cache
def _classes() -> dict[str, type]:
    """Every class a message may hold: the engine's results and this module's own."""
    return {**known_classes(), **ANSWERS, **REQUESTS, **EVENTS}


class ProtocolError(ValueError):
    """A message that is not one this protocol speaks."""


def op_name(request: Request[Any]) -> str:
    return type(request).__name__


def encode_request(request: Request[Any], rid: int) -> dict[str, Any]:
    return {"id": rid, "op": op_name(request), "args": to_wire(request)}


def decode_request(data: dict[str, Any]) -> tuple[Any, Request[Any]]:
    """(id, request); ProtocolError (carrying the id) for an op this protocol does not have."""
    rid, op = data.get("id"), data.get("op")
    cls = REQUESTS.get(op) if isinstance(op, str) else None
    if cls is None:
        raise ProtocolError(repr(op), rid)
    args = data.get("args") or {}
    if not isinstance(args, dict):
        raise ProtocolError(repr(op), rid)
    rebuilt = from_wire({**args, "@": cls.__name__}, _classes())
    return rid, rebuilt


def encode_reply(rid: Any, answer: object) -> dict[str, Any]:
    return {"reply": rid, "ok": True, "result": to_wire(answer)}


def encode_refusal(rid: Any, words: str, why: Said) -> dict[str, Any]:
    """A request the kernel could not do: `words` in the kernel's language, `why` for the app to word."""
    return {"reply": rid, "ok": False, "error": words, "said": to_wire(why)}


@dataclass(frozen=True)
class Reply:
    """A reply as the app reads it: the answer, or what the refusal said."""

    rid: Any
    ok: bool
    answer: Any = None
    error: str = ""
    said: Said | None = None


def decode_reply(data: dict[str, Any]) -> Reply:
    if data.get("ok"):
        return Reply(data.get("reply"), True, from_wire(data.get("result"), _classes()))
    try:
        why = from_wire(data.get("said"), _classes())
    except (ValueError, TypeError):
        why = None
    return Reply(data.get("reply"), False, error=str(data.get("error") or ""),
                 said=why if isinstance(why, Said) else None)


def is_reply(data: dict[str, Any]) -> bool:
    return "reply" in data


def encode_event(event: Event) -> dict[str, Any]:
    return {"event": to_wire(event)}


def decode_event(data: dict[str, Any]) -> Event:
    """The event a comm message carries; ProtocolError for one this protocol does not have."""
    body = data.get("event")
    if not isinstance(body, dict) or body.get("@") not in EVENTS:
        raise ProtocolError(repr(body.get("@") if isinstance(body, dict) else body))
    event = from_wire(body, _classes())
    assert isinstance(event, Event)
    return event
