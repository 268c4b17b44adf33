"""The one place torchtui uses a private part of Textual, because nothing public does the job.

Keys typed in a burst (a paste over SSH, a fast typist) must reach the widget that has focus once
the key before them has acted: Textual hands each key to whatever was focused when it arrived, so a
key that moves focus lets the next ones land in the widget it left (Textual issue #1199, closed for
Enter in an Input, not for keys in general). TorchTUI.on_event holds such keys and hands them on one
at a time. Handing on a held key must mark it as forwarded, as Textual's own dispatch does, or the
app would take it for a new key when it bubbles back up; only the private `_forward_event` does that.

A byte from the terminal that is not UTF-8 (a serial line, a bad paste, a mis-set locale) raised
UnicodeDecodeError in Textual's input thread, which died: keys stopped working and the app exited
with a traceback. Its Linux driver takes its strict decoder from the module's own
`getincrementaldecoder` inside `run_input_thread`, with no option to change it: `tolerate_stray_bytes`
gives it one that drops such bytes, and the app says so once in a while.

The same decoder keeps a bracketed paste whole: Textual's parser takes an ESC inside a paste for the
start of a key sequence and sends what follows it as keys at once, ahead of the paste (`'x<ESC>y'`
ran as `^y'…` followed by `'x`). An ESC inside a paste (other than the one that ends it) is
dropped before the parser sees it, as Textual drops NUL there.
"""

from __future__ import annotations

import codecs
import threading
import time
from typing import Any

from textual import events
from textual.dom import DOMNode

from tui.i18n import t


def forward_key(target: DOMNode, event: events.Key | events.Paste) -> None:
    """Give a held key (or paste) to `target` as Textual gives a key to the focused widget."""
    target._forward_event(event)  # type: ignore[attr-defined]  # see the module's docstring


STRAY_ERRORS = "torchtui.stray-bytes"  # a codecs error handler: drop the bytes, remember that it did
STRAY_NOTICE_S = 10.0  # a burst of garbage (a serial line at the wrong speed) is said once, not per byte
_input = threading.local()  # the app whose input thread is decoding (set in that thread)
_said_at = [float("-inf")]


def _drop(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError):
        raise error
    _input.dropped = True
    return "", error.end


PASTE_START, PASTE_END = "\x1b[200~", "\x1b[201~"


class PasteEscapes:
    """Drops the ESC characters inside a bracketed paste (not the one that ends it) from text as it
    comes, in chunks. Inside a paste, an end marker cut by a chunk's end waits for its rest (the
    terminal always sends it); outside, nothing waits: an ESC may be the Escape key. A start
    marker cut in two is then not seen, and that paste is left as Textual reads it."""

    def __init__(self) -> None:
        self.pasting = False
        self._held = ""  # the end of the last chunk inside a paste, while it may be the end marker

    def filter(self, text: str) -> str:
        text, self._held = self._held + text, ""
        out: list[str] = []
        at = 0
        while at < len(text):
            escape = text.find("\x1b", at)
            if escape < 0:
                out.append(text[at:])
                break
            out.append(text[at:escape])
            rest = text[escape:]
            marker = PASTE_END if self.pasting else PASTE_START
            if rest.startswith(marker):
                out.append(marker)
                self.pasting = not self.pasting
                at = escape + len(marker)
            elif self.pasting and marker.startswith(rest):
                self._held = rest
                break
            else:
                if not self.pasting:
                    out.append("\x1b")  # outside a paste an ESC is the terminal's (keys, replies)
                at = escape + 1
        return "".join(out)


class _TolerantDecoder(codecs.IncrementalDecoder):
    """UTF-8 as Textual's own decoder reads it, except that bytes that are not UTF-8 are dropped."""

    def __init__(self, errors: str = "strict") -> None:
        super().__init__(STRAY_ERRORS)
        self._utf8 = codecs.getincrementaldecoder("utf-8")(STRAY_ERRORS)
        self._paste = PasteEscapes()

    def decode(self, input: Any, final: bool = False) -> str:  # noqa: A002 - (codecs' own name)
        _input.dropped = False
        text = self._paste.filter(self._utf8.decode(input, final))
        app = getattr(_input, "app", None)
        if _input.dropped and app is not None and time.monotonic() - _said_at[0] > STRAY_NOTICE_S:
            _said_at[0] = time.monotonic()

            app.call_later(app.notify, t("guard.stray_bytes"), severity="warning")  # (thread-safe)
        return text

    def reset(self) -> None:
        self._utf8.reset()
        self._paste = PasteEscapes()

    def getstate(self) -> tuple[bytes, int]:
        return self._utf8.getstate()

    def setstate(self, state: tuple[bytes, int]) -> None:
        self._utf8.setstate(state)


def _decoder_class(encoding: str) -> Any:
    if codecs.lookup(encoding).name == "utf-8":
        return _TolerantDecoder
    return codecs.getincrementaldecoder(encoding)


def tolerate_stray_bytes() -> None:
    """Give Textual's Linux driver a decoder that drops bytes that are not UTF-8 (see the module's
    docstring). Once is enough; on other platforms there is no such driver."""
    try:
        from textual.drivers import linux_driver
    except ImportError:  # (Windows: termios is missing)
        return
    driver = linux_driver.LinuxDriver
    if getattr(driver.run_input_thread, "tolerant", False):
        return
    try:
        codecs.lookup_error(STRAY_ERRORS)
    except LookupError:
        codecs.register_error(STRAY_ERRORS, _drop)
    original = driver.run_input_thread

    def run_input_thread(self) -> None:
        _input.app = self._app
        original(self)

    run_input_thread.tolerant = True  # type: ignore[attr-defined]
    driver.run_input_thread = run_input_thread  # type: ignore[method-assign]
    linux_driver.getincrementaldecoder = _decoder_class  # see the module's docstring


tolerate_stray_bytes()  # on import: whoever starts the app (tui.app) imports this module first
