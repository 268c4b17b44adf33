"""The Training form's rows for a task that trains the learner's own objects (Task.given): one
picker per kind (model, data, loss, optimizer), listing the namespace's names of that kind as the
kernel answers them (engine.protocol.OwnNames)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Label, Select

from engine.i18n import SaidError, said
from tui.i18n import t

KINDS = ("model", "data", "loss", "optimizer")  # (engine.tasks.own.KINDS: the app does not import it)
LABELS = {"model": "own.f.model", "data": "own.f.data", "loss": "own.f.loss", "optimizer": "own.f.optimizer"}
PICK = {"model": "own.kind.model", "data": "own.kind.data", "loss": "own.kind.loss", "optimizer": "own.kind.optimizer"}


class OwnPickers(Vertical):
    """The four pickers; `names()` the chosen name of each kind, `check()` says which is missing."""

    DEFAULT_CSS = """
    OwnPickers { height: auto; }
    """

    def compose(self) -> ComposeResult:
        for kind in KINDS:
            with Horizontal(classes="field", id=f"row-own-{kind}"):
                yield Label(t(LABELS[kind]), classes="field-label")
                yield Select([], prompt=t("own.none_yet"), allow_blank=True, id=f"f-own-{kind}", compact=True,
                             classes="own-picker")

    def fill(self, by_kind: dict[str, tuple[str, ...]], chosen: dict[str, str] | None = None) -> None:
        """List each kind's names, keeping the choice made (or `chosen`'s) where it is still there;
        a kind with a single name has it chosen."""
        for kind in KINDS:
            select = self.query_one(f"#f-own-{kind}", Select)
            names = list(by_kind.get(kind, ()))
            keep = (chosen or {}).get(kind) or ("" if select.is_blank() else str(select.value))
            if chosen and keep and keep not in names:  # %train's argument as typed (an expression), as it is
                names.append(keep)
            select.set_options([(name, name) for name in names])
            select.prompt = t("own.choose") if names else t("own.none_yet")
            if keep in names:
                select.value = keep
            elif len(names) == 1:
                select.value = names[0]

    def names(self) -> dict[str, str]:
        chosen = {}
        for kind in KINDS:
            select = self.query_one(f"#f-own-{kind}", Select)
            chosen[kind] = "" if select.is_blank() else str(select.value)
        return chosen

    def check(self) -> None:
        """A ConfigError naming the first picker left empty."""
        for kind, name in self.names().items():
            if not name:
                raise nothing_picked(kind)


def nothing_picked(kind: str):
    """The form's error for an empty picker: a ConfigError whose field is the picker (marked red),
    worded as one sentence of its own."""
    from engine.training import ConfigError

    error = ConfigError(f"own-{kind}", said(PICK[kind]))
    SaidError.__init__(error, "own.pick", kind=said(PICK[kind]))
    return error
