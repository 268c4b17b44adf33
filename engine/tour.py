"""The Learn tour without a UI: chapters (from JSON data files), exercise checks against a
namespace, and saved progress."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from engine import paths

DATA = Path(__file__).parent / "lessons"


@dataclass(frozen=True)
class Example:
    """A runnable example of a chapter."""

    id: str
    title: str
    code: str


@dataclass(frozen=True)
class Chapter:
    """One lesson: its text, examples, exercise, and the screen it can open."""

    id: str
    title: str
    body: str
    examples: tuple[Example, ...]
    exercise: str
    checks: tuple[tuple[str, str], ...]  # (expression over the namespace, hint key)
    hints: dict
    solution: str
    wrong: str
    opens: str | None = None


@dataclass(frozen=True)
class CheckResult:
    """Whether an exercise passed, and the hint for the first check that failed."""

    passed: bool
    hint: str = ""


@cache
def _load(name: str) -> dict:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def chapters(lang: str = "en") -> list[Chapter]:
    tour = _load("tour.json")["chapters"]
    text = _load(f"{lang}.json")
    out = []
    for ch in tour:
        words = text[ch["id"]]
        examples = tuple(Example(e["id"], words["examples"][e["id"]], e["code"]) for e in ch["examples"])
        ex = ch["exercise"]
        out.append(Chapter(ch["id"], words["title"], words["body"], examples, words["exercise"],
                           tuple((c, h) for c, h in ex["checks"]), words["hints"], ex["solution"], ex["wrong"],
                           ch.get("opens")))
    return out


def check(chapter: Chapter, namespace: dict) -> CheckResult:
    """Run the exercise's checks over `namespace`; the first failing one gives the hint."""
    import numpy as np
    import torch
    from torch import nn

    scope = {**namespace, "torch": torch, "np": np, "nn": nn, "ns": namespace}
    for expression, hint in chapter.checks:
        try:
            ok = bool(eval(expression, {"__builtins__": __builtins__}, scope))
        except Exception:
            ok = False
        if not ok:
            return CheckResult(False, chapter.hints.get(hint, hint))
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
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            self.read = set(data.get("read", []))
            self.passed = set(data.get("passed", []))
            self.current = data.get("current")
        except FileNotFoundError:
            pass
        except (OSError, ValueError, AttributeError, TypeError, RecursionError):
            self.warning = f"progress file {self.path} could not be read; starting the tour afresh"

    def save(self) -> None:
        data = {"read": sorted(self.read), "passed": sorted(self.passed), "current": self.current}
        if self._unsaved:
            return  # said once; the tour goes on in memory
        try:
            paths.write_private(self.path, json.dumps(data, indent=1))
        except OSError as exc:
            self._unsaved = True
            self.warning = f"progress cannot be saved in {self.path.parent} ({exc.strerror or exc}): it is kept in memory"

    def mark_read(self, chapter_id: str) -> None:
        self.read.add(chapter_id)
        self.current = chapter_id
        self.save()

    def mark_passed(self, chapter_id: str) -> None:
        self.passed.add(chapter_id)
        self.save()
