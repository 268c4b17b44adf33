"""The training tasks, by name: everything that trains, shows or exports a run asks its task
(engine.tasks.base.Task) rather than naming one. A new task is a module and a line here."""

from __future__ import annotations

from engine.tasks.base import DEFAULT_TASK, SETTINGS, RunConfig, Setting, Task
from engine.tasks.moons import Moons
from engine.tasks.own import Own
from engine.tasks.regression import Regression

TASKS: dict[str, Task] = {t.name: t for t in (Regression(), Moons(), Own())}

__all__ = ["DEFAULT_TASK", "SETTINGS", "TASKS", "RunConfig", "Setting", "Task", "form_settings", "task",
           "wire_classes"]


def task(name: str) -> Task:
    """The task called `name`; KeyError for a name that is none (make_config says so in words)."""
    return TASKS[name]


def form_settings() -> tuple[Setting, ...]:
    """The settings some task shows, in the form's order (each with the default of the first task
    that shows it): the Training form has a row for each, and shows those of the task chosen."""
    first: dict[str, Setting] = {}
    for t in TASKS.values():
        for s in t.schema():
            first.setdefault(s.name, s)
    return tuple(first[s.name] for s in SETTINGS if s.name in first)


def wire_classes() -> tuple[type, ...]:
    """The tasks' own dataclasses that travel inside Progress and Result."""
    return tuple(c for t in TASKS.values() for c in t.wire_classes)
