"""What the kernel session reports to the app about its cells and its kernel, as plain frozen
dataclasses (the kernel's own news is engine.protocol's events)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class KernelReady:
    """The kernel answered and torchtui's extension is loaded (or `error` says why not)."""

    torch_version: str = ""
    device: str = "cpu"
    device_text: str = ""
    error: str = ""
    restarted: bool = False
    plain: str = ""  # an attached kernel that cannot load the engine: why (cells still run)
    waiting: int = 0  # cells typed meanwhile, which now run on this kernel
    modules: tuple[str, ...] = ()  # which of torch, np, nn, optim, F are those modules in the namespace


@dataclass(frozen=True)
class CellStarted:
    """A cell began to run; `number` is the kernel's execution count."""

    cell: str  # the execute request's msg_id
    number: int
    source: str


@dataclass(frozen=True)
class CellStream:
    cell: str  # the session's id of the cell (KernelSession.execute's)
    name: str  # stdout or stderr
    text: str
    late: bool = False  # printed after the cell was answered, by a thread it started


@dataclass(frozen=True)
class CellDisplay:
    """A value (`number` set: Out[n]), display data, or a page of help (x?), as a mime bundle."""

    cell: str
    data: dict
    number: int | None = None
    page: bool = False
    late: bool = False  # shown after the cell was answered, by a thread it started


@dataclass(frozen=True)
class CellError:
    cell: str
    ename: str
    evalue: str
    traceback: tuple[str, ...] = ()


@dataclass(frozen=True)
class CellDone:
    """A cell's reply: status ok, error, aborted, or lost (the kernel died or was restarted)."""

    cell: str
    number: int | None
    status: str
    elapsed: float
    source: str = ""


@dataclass(frozen=True)
class KernelDied:
    """The kernel process ended without being asked to; `cause` says how, in words."""

    cause: str
    waiting: int = 0  # cells typed meanwhile, kept for the next kernel


@dataclass(frozen=True)
class KernelRestarting:
    reason: str = ""
    waiting: int = 0  # cells typed meanwhile, kept for the next kernel


@dataclass(frozen=True)
class InputRequested:
    """A cell asked for a line of input (input(), getpass, a debugger's prompt)."""

    cell: str
    prompt: str
    password: bool = False


@dataclass(frozen=True)
class NextInput:
    """A cell asked for text to be put in the editor (%load FILE, IPython's set_next_input)."""

    text: str
