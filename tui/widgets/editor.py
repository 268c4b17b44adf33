"""The Playground's cell editor: Python highlighting, Enter runs a complete cell, Up/Down walk
history, Tab completes from the kernel's namespace with a dropdown when several names match."""

from __future__ import annotations

import re
from collections.abc import Callable

from textual import events
from textual.message import Message
from textual.widgets import OptionList, Static, TextArea

from engine.protocol import Signature as SignatureOf
from engine.repl.complete_input import is_complete
from engine.repl.completion import common_prefix
from tui.asking import Answer, ask, stale
from tui.i18n import t

WORD_BEFORE = re.compile(r"[\w.]$")
CALLED = re.compile(r"([A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)*)\($")


class Completions(OptionList):
    """The dropdown of completion candidates shown above the editor."""

    DEFAULT_CSS = """
    Completions { display: none; height: auto; max-height: 8; border: none; background: $panel; }
    Completions.-open { display: block; }
    """

    def __init__(self) -> None:
        super().__init__(id="completions")
        self.can_focus = False
        self.start = 0

    def show(self, start: int, words: list[str]) -> None:
        self.start = start
        self.clear_options()
        self.add_options(words)
        self.highlighted = 0
        self.add_class("-open")

    def close(self) -> None:
        self.remove_class("-open")

    @property
    def is_open(self) -> bool:
        return self.has_class("-open")

    def chosen(self) -> str | None:
        if self.highlighted is None or not self.option_count:
            return None
        return str(self.get_option_at_index(self.highlighted).prompt)


class CellEditor(TextArea):
    """A TextArea that submits complete cells and knows the REPL history."""

    class Completed(Answer):
        """IPython's completions at the cursor: (start, end, matches)."""

    class Signature(Answer):
        """The signature of the function whose call was just opened."""

    class Submitted(Message):
        """The user pressed Enter on a complete cell."""

        def __init__(self, source: str) -> None:
            super().__init__()
            self.source = source

    def __init__(self, completions: Completions, history: list[str] | None = None, kernel=None,
                 hint: Static | None = None) -> None:
        # Highlighting is switched on after the first frame (see highlight()): loading the
        # tree-sitter grammar is the slowest part of drawing this screen.
        super().__init__("", id="editor", soft_wrap=True, tab_behavior="indent", show_line_numbers=False,
                         placeholder=t("pg.editor_placeholder"))
        self.completions = completions
        self.history_entries = history if history is not None else []
        self.kernel = kernel  # the kernel session: completion is asked of it
        self.submit: Callable[[str], None] | None = None  # called with a complete cell's source (else a Submitted message is posted)
        self.hint = hint  # a line above the editor for the signature of the function being called
        self._history_pos: int | None = None
        self._draft = ""
        self._auto_indent: tuple[int, int] | None = None  # (row, spaces) the editor put after Enter

    def highlight(self) -> None:
        """Turn on Python highlighting; without the syntax extra it stays a plain editor."""
        selection = self.selection  # setting the language reloads the document and the cursor
        try:
            self.language = "python"
        except Exception:
            pass
        self.selection = selection

    # --- history ----------------------------------------------------------------------------
    def _show_history(self, pos: int | None) -> None:
        self._history_pos = pos
        text = self._draft if pos is None else self.history_entries[pos]
        self._replace_all(text)

    def history_prev(self) -> None:
        if not self.history_entries:
            return
        if self._history_pos is None:
            self._draft = self.text
            self._show_history(len(self.history_entries) - 1)
        elif self._history_pos > 0:
            self._show_history(self._history_pos - 1)

    def history_next(self) -> None:
        if self._history_pos is None:
            return
        if self._history_pos < len(self.history_entries) - 1:
            self._show_history(self._history_pos + 1)
        else:
            self._show_history(None)

    def set_source(self, text: str) -> None:
        self._history_pos = None
        self._replace_all(text)

    def _replace_all(self, text: str) -> None:
        # an edit of the document, not a new one: load_text would build the highlighter's query
        # again (~15 ms), which delayed the output of every cell (and each step through history)
        self.replace(text, (0, 0), self.document.end)
        self.move_cursor(self.document.end)

    # --- completion -------------------------------------------------------------------------
    def _line_before_cursor(self) -> str:
        row, col = self.cursor_location
        return self.document[row][:col]

    def complete_here(self) -> bool:
        """Complete the word before the cursor; False when there is no word (Tab then indents)."""
        if not WORD_BEFORE.search(self._line_before_cursor()):
            return False
        self._complete(explicit=True)
        return True

    def _complete(self, explicit: bool) -> None:
        """Ask the kernel (IPython's completer, which runs no user code) to complete at the cursor."""
        code, where, kernel = self.text, self.cursor_location, self.kernel
        index = sum(len(line) + 1 for line in self.document.lines[:where[0]]) + where[1]
        ask(self, self.Completed, lambda: kernel.complete(code, index), code=code, where=where, index=index,
            explicit=explicit)

    def on_cell_editor_completed(self, answer: Completed) -> None:
        """Show what the kernel found: the common prefix typed in, one word put in place, or the dropdown."""
        code, where, index, explicit = (answer.context[k] for k in ("code", "where", "index", "explicit"))
        if stale(self, answer) or self.text != code or self.cursor_location != where:
            return  # typed on meanwhile: this answer is about text that is gone
        # no kernel yet, or busy in C code: nothing to offer this time
        start, _end, words = answer.result if not answer.error else (index, index, [])
        row, col = where
        line_start = index - col
        if not words or start < line_start:
            if explicit:
                self.app.bell()
            self.completions.close()
            return
        start_col = start - line_start
        typed = self.document[row][start_col:col]
        words = list(dict.fromkeys(words))
        if explicit:
            prefix = common_prefix(words) if all(w.startswith(typed) for w in words) else ""
            if len(prefix) > len(typed):
                self.insert(prefix[len(typed):])
        if len(words) == 1 and explicit:
            if not words[0].startswith(typed):
                self.replace(words[0], (row, start_col), (row, col))
            self.completions.close()
        elif len(words) > 1 or (words and not explicit and words[0] != typed):
            self.completions.show(start_col, words)
        else:
            self.completions.close()

    def on_cell_editor_signature(self, answer: Signature) -> None:
        if stale(self, answer) or answer.error:  # busy in C code, or no kernel: no hint this time
            return
        name, text = answer.context["name"], answer.result
        before = self._line_before_cursor()
        start = before.rfind(name + "(")
        if start < 0 or ")" in before[start:]:
            return  # submitted, or the call closed, while the kernel answered
        if self.hint is not None and text:
            self.hint.update(text)
            self.hint.add_class("-shown")

    def hide_signature(self) -> None:
        if self.hint is not None and self.hint.has_class("-shown"):
            self.hint.remove_class("-shown")

    def accept_completion(self) -> None:
        word = self.completions.chosen()
        self.completions.close()
        if word is None:
            return
        row, col = self.cursor_location
        self.replace(word, (row, min(self.completions.start, col)), (row, col))

    # --- keys -------------------------------------------------------------------------------
    def _submit_or_newline(self) -> None:
        source = self.text
        row, _ = self.cursor_location
        at_end = self.cursor_location == self.document.end
        line = self.document[row]
        if not source.strip():
            return
        if at_end:
            if line.strip() == "" and "\n" in source:
                ready = is_complete(source.rstrip() + "\n\n")  # an empty line closes a block
            elif "\n" in source and line[:1] in (" ", "\t"):
                ready = False  # inside an indented block: more lines may follow, as in IPython
            else:
                ready = is_complete(source) and not source.rstrip().endswith(":")
            if ready:
                # Clear now, not when the screen gets the message: keys typed meanwhile belong
                # to the next cell.
                if self.submit is not None:
                    # sent at once, inside this key's handling: the kernel starts on the cell while
                    # the screen redraws (a message would wait behind that redraw, ~15 ms)
                    self.submit(source.rstrip())
                else:
                    self.post_message(self.Submitted(source.rstrip()))
                self.set_source("")
                self.completions.close()
                self.hide_signature()
                return
        indent = len(line) - len(line.lstrip(" "))
        before = self._line_before_cursor().rstrip()
        if before.endswith(":"):
            indent += 4
        self.insert("\n" + " " * indent)
        self._auto_indent = (self.cursor_location[0], indent) if indent else None

    def _typed_indent(self, key: str) -> bool:
        """Indentation typed by hand: a space on a line that holds only the editor's auto-indent
        replaces it (so tutorial code typed as printed is not indented twice, as in IPython);
        Backspace in leading spaces removes one level (4 spaces). True when the key was used."""
        row, col = self.cursor_location
        before = self.document[row][:col]
        auto, self._auto_indent = self._auto_indent, None
        if key == "space" and auto == (row, col) and before == " " * col:
            self.replace(" ", (row, 0), (row, col))
            return True
        if key == "backspace" and before and before == " " * col and not self.selected_text:
            width = col % 4 or 4
            self.delete((row, col - width), (row, col))
            return True
        return False

    def on_key(self, event: events.Key) -> None:
        """Keys the editor takes before TextArea does (completion, Enter, indentation, history):
        each one taken is stopped and its default (TextArea's own handler) prevented."""
        key = event.key
        if self.completions.is_open:
            if key in ("up", "down"):
                event.stop()
                event.prevent_default()
                count = self.completions.option_count
                current = self.completions.highlighted or 0
                self.completions.highlighted = (current + (1 if key == "down" else -1)) % max(count, 1)
                return
            if key in ("enter", "tab"):
                event.stop()
                event.prevent_default()
                self.accept_completion()
                return
            if key == "escape":
                event.stop()
                event.prevent_default()
                self.completions.close()
                return
            if not (event.is_printable and (event.character or "").isidentifier()):
                self.completions.close()
        if key == "enter":
            event.stop()
            event.prevent_default()
            self._submit_or_newline()
            return
        if key in ("space", "backspace") and self._typed_indent(key):
            event.stop()
            event.prevent_default()
            return
        if key not in ("space", "backspace"):
            self._auto_indent = None
        if key == "tab":
            if self.complete_here():
                event.stop()
                event.prevent_default()
                return
        if key == "up" and self.cursor_location[0] == 0 and not self.selected_text:
            event.stop()
            event.prevent_default()
            self.history_prev()
            return
        if key == "down" and self.cursor_location[0] == self.document.line_count - 1 and not self.selected_text:
            if self._history_pos is not None:
                event.stop()
                event.prevent_default()
                self.history_next()
                return
        self.call_later(self._after_key, event)  # runs once TextArea has handled the key

    def _after_key(self, event: events.Key) -> None:
        if self.completions.is_open and event.is_printable:
            self._refresh_completions()
        if event.character == "(":
            called = CALLED.search(self._line_before_cursor())
            if called:
                name, kernel = called.group(1), self.kernel
                ask(self, self.Signature, lambda: kernel.request(SignatureOf(name)), name=name)
        elif event.character == ")" or event.key == "escape":
            self.hide_signature()

    def _refresh_completions(self) -> None:
        self._complete(explicit=False)
