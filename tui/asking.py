"""The one way a widget asks for something that takes time (the kernel, mostly): `ask` runs the call
in a Textual worker, and a typed message brings the answer back to the widget that asked, carrying
the request's id. A widget that asked again since drops the older answer with `stale`.

    class Loaded(Answer): ...                      # one subclass per kind of question
    ask(self, Loaded, lambda: kernel.request(GradExample(key)), key=key)
    def on_autograd_screen_loaded(self, answer):   # (Textual's handler name for a nested class)
        if stale(self, answer): return
        ... answer.result, or answer.error in the reader's words

A call that raises comes back as an answer with `error` set, so the screen can say so where the
result would have gone. A worker that fails in any other way reaches TorchTUI's one handler of
failed workers, which shows the error.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from weakref import WeakKeyDictionary

from textual.dom import DOMNode
from textual.message import Message
from textual.worker import Worker, get_current_worker

from tui.i18n import said_text, t


@dataclass
class Answer(Message, bubble=False):
    """What a question came back with: `result`, or `error` (in the reader's words) when it
    failed. `context` is what the asker passed along to place the answer (a key, a token)."""

    request: int
    result: Any = None
    error: str = ""
    context: dict[str, Any] = field(default_factory=dict)


_ids = itertools.count(1)
_latest: WeakKeyDictionary[DOMNode, dict[type[Answer], int]] = WeakKeyDictionary()


def failure_text(exc: BaseException) -> str:
    """Why a call failed, in the reader's words."""
    if isinstance(exc, TimeoutError):
        return t("kernel.no_answer")
    return said_text(exc) or type(exc).__name__


def ask(asker: DOMNode, answer: type[Answer], call: Callable[[], Awaitable[Any]], *,
        exclusive: bool = True, **context: Any) -> int:
    """Run `call` in a worker of `asker`'s and post `answer(request, result or error, context)` to
    `asker`; returns the request's id. `exclusive`: a new question of this kind cancels the one
    still running (its answer would be stale anyway); leave it off for commands that must all
    reach the kernel (pause, resume, stop)."""
    request = next(_ids)
    _latest.setdefault(asker, {})[answer] = request

    async def work() -> None:
        try:
            result = await call()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # refused, timed out, no kernel: the asker says so
            asker.post_message(answer(request, error=failure_text(exc), context=context))
            return
        if get_current_worker().is_cancelled:
            return
        asker.post_message(answer(request, result=result, context=context))

    # (annotated, or mypy cannot tell the worker's result type from `work`)
    worker: Worker[None] = asker.run_worker(work, name=answer.__name__, group=answer.__qualname__,
                                            exclusive=exclusive, exit_on_error=False)
    del worker
    return request


def stale(asker: DOMNode, answer: Answer) -> bool:
    """True when `asker` asked this kind of question again after `answer`'s: drop it."""
    return _latest.get(asker, {}).get(type(answer)) != answer.request


def forget(asker: DOMNode, answer: type[Answer]) -> None:
    """Make every answer of this kind still on its way stale (what it answers is gone)."""
    _latest.setdefault(asker, {})[answer] = next(_ids)
