"""The Learn tour without a UI: chapters (code and checks from lessons/tour.json, words from the
catalog in engine.i18n), exercise checks against a namespace, and saved progress."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from engine import paths
from engine.i18n import Said, said, say, text

DATA = Path(__file__).parent / "lessons"
PROGRESS_MAX_BYTES = 1 << 20  # a few dozen chapter ids; a bigger file is not a progress file
BIGGEST_ANSWER = 10**6  # elements: every exercise's answer is far smaller; a bigger tensor is not read


@dataclass(frozen=True)
class Example:
    """A runnable example of a chapter; `varies` says why its output differs from run to run, and
    `needs` names the chapter's examples whose variables it uses (they run again first). A
    `playground` example uses the Playground's own commands (%model, %train) or what a run of
    them left (trained_result), which plain Python has not: `shows` is what it prints there. One
    that reads what a run left needs no example: running the run again would start a new one. An
    example whose words come from processes it starts (torchrun's ranks) says what they print in
    `shows` too: it prints the same in plain Python, where it is not run again to find out."""

    id: str
    title: str
    code: str
    varies: str = ""
    needs: tuple[str, ...] = ()
    playground: bool = False
    shows: str = ""


@dataclass(frozen=True)
class Chapter:
    """One lesson: its text, examples, shell commands to read (never run), exercise, and the
    screen it can open."""

    id: str
    title: str
    body: str
    examples: tuple[Example, ...]
    exercise: str
    names: tuple[tuple[str, str], ...]  # (variable, kind) the exercise asks for
    checks: tuple[tuple[str, str], ...]  # (expression over the namespace, hint id)
    solution: str
    wrong: str
    opens: str | None = None
    shell: tuple[str, ...] = ()
    any_device: bool = False
    missing: tuple[tuple[str, str], ...] = ()  # (variable, hint id): a name the learner does not assign (a run's)


@dataclass(frozen=True)
class CheckResult:
    """Whether an exercise passed, and what to say about the first check that failed."""

    passed: bool
    hint: Said | None = None


@cache
def _load(name: str) -> dict:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def chapters(lang: str = "en") -> list[Chapter]:
    out = []
    for ch in _load("tour.json")["chapters"]:
        key = f"tour.{ch['id']}."
        examples = tuple(Example(e["id"], text(key + "example." + e["id"], lang), e["code"],
                                 text(key + "varies." + e["id"], lang) if e.get("varies") else "",
                                 tuple(e.get("needs", ())), bool(e.get("playground")), e.get("shows", ""))
                         for e in ch["examples"])
        ex = ch["exercise"]
        out.append(Chapter(ch["id"], text(key + "title", lang), text(key + "body", lang), examples,
                           text(key + "exercise", lang), tuple((n, k) for n, k in ex["names"].items()),
                           tuple((c, h) for c, h in ex["checks"]), ex["solution"], ex["wrong"],
                           ch.get("opens"), tuple(ch.get("shell", ())), bool(ex.get("any_device")),
                           tuple(ex.get("missing", {}).items())))
    return out


def chapter(chapter_id: str) -> Chapter | None:
    return next((c for c in chapters() if c.id == chapter_id), None)


def _kind_of(value, torch, np) -> str:
    """What a value is, without running any of its code (no isinstance: it may ask __class__)."""
    kind = type(value)
    if issubclass(kind, torch.Tensor):
        return "tensor"
    if issubclass(kind, torch.nn.Module):
        return "module"
    if issubclass(kind, torch.optim.Optimizer):
        return "optimizer"
    if issubclass(kind, np.ndarray):
        return "array"
    if issubclass(kind, torch.utils.data.DataLoader):
        return "loader"
    if issubclass(kind, torch.utils.data.Dataset):
        return "dataset"
    if issubclass(kind, str):
        return "string"
    if issubclass(kind, (int, float)):
        return "number"
    return kind.__name__


def _screen(chapter: Chapter, namespace: dict, torch, np) -> Said | None:
    """The checks every exercise shares, made before any of its own: each name is there, is
    what the exercise asks for, and (a tensor) is small and on the CPU, so that the exercise's
    own checks read only a few plain numbers."""
    for name, wanted in chapter.names:
        if name not in namespace:
            hint = dict(chapter.missing).get(name)  # (made by a run, not by `name = ...`: the chapter says how)
            return said(f"tour.{chapter.id}.hint.{hint}") if hint else said("tour.check.missing", name=name)
        value = namespace[name]
        kind = _kind_of(value, torch, np)
        if wanted != "any" and kind != wanted:
            return said("tour.check.kind", name=name, wanted=said("tour.kind." + wanted),
                        got=type(value).__name__)
        if kind == "tensor":
            if type(value) not in (torch.Tensor, torch.nn.Parameter) or value.layout != torch.strided:
                return said("tour.check.plain", name=name, got=type(value).__name__)
            if value.device.type == "meta":
                return said("tour.check.meta", name=name)
            if value.device.type != "cpu" and not chapter.any_device:
                return said("tour.check.device", name=name, device=str(value.device))
            if value.numel() > BIGGEST_ANSWER:
                return said("tour.check.huge", name=name, count=f"{value.numel():,}",
                            shape=str(tuple(value.shape)))
    return None


def check(chapter: Chapter, namespace: dict) -> CheckResult:
    """Run the exercise's checks over `namespace`; the first failing one gives the hint. Nothing
    in the namespace is run: names are read, their values checked."""
    import numpy as np
    import torch
    from torch import nn

    found = _screen(chapter, namespace, torch, np)
    if found is not None:
        return CheckResult(False, found)
    scope = {**{n: namespace[n] for n, _ in chapter.names}, "torch": torch, "np": np, "nn": nn,
             "F": torch.nn.functional}
    for name, kind in chapter.names:
        if kind == "tensor" and namespace[name].device.type != "cpu":
            scope[name] = namespace[name].detach().cpu()  # small (screened above): read on the CPU
    for expression, hint in chapter.checks:
        try:
            ok = bool(eval(expression, {"__builtins__": __builtins__}, scope))
        except Exception:
            ok = False
        if not ok:
            return CheckResult(False, said(f"tour.{chapter.id}.hint.{hint}"))
    return CheckResult(True)
class Progress:
    """Lessons read and exercises passed, saved in the state folder as JSON."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path else paths.state_dir(create=False) / "progress.json"
        self.read: set[str] = set()
        self.passed: set[str] = set()
        self.current: str | None = None
        self.warning = ""
        self._unsaved = False
        try:  # a regular file only: a FIFO would hang the start, /dev/zero fill the memory
            data = json.loads(paths.read_regular(self.path, PROGRESS_MAX_BYTES).decode("utf-8"))
            self.read = set(data.get("read", []))
            self.passed = set(data.get("passed", []))
            self.current = data.get("current")
        except FileNotFoundError:
            pass
        except paths.UnsafeFile as exc:  # moved out of the way (never opened), so the tour can save again
            try:
                aside = paths.set_aside(self.path)
            except OSError:
                self.warning = say("warn.progress.unreadable", path=str(self.path))
            else:
                self.warning = say("warn.progress.moved", path=str(self.path), error=exc.strerror, name=aside.name)
        except (OSError, ValueError, AttributeError, TypeError, RecursionError):
            self.warning = say("warn.progress.unreadable", path=str(self.path))

    def save(self) -> None:
        data = {"read": sorted(self.read), "passed": sorted(self.passed), "current": self.current}
        if self._unsaved:
            return  # said once; the tour goes on in memory
        try:
            paths.write_private(self.path, json.dumps(data, indent=1))
        except OSError as exc:
            self._unsaved = True
            self.warning = say("warn.progress.unsaved", folder=str(self.path.parent), error=exc.strerror or str(exc))

    def mark_read(self, chapter_id: str) -> None:
        self.read.add(chapter_id)
        self.current = chapter_id
        self.save()

    def mark_passed(self, chapter_id: str) -> None:
        self.passed.add(chapter_id)
        self.save()
