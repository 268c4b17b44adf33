"""torchtui's words in English and Simplified Chinese: one catalog per language, merged from the
JSON files in engine/locales/<lang>/ (app.json: the screens; tour.json: the Learn tour;
engine.json: what the engine has to say).

The engine speaks in codes: a `Said` (a catalog key and its values) or a `SaidError`. Whoever shows
it to a person words it in their language with `text()`; `str()` of an error is in the language
this process prints in (English unless `speak()` was told otherwise, as a kernel is by its app).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

LANGUAGES = ("en", "zh")
DIR = Path(__file__).parent / "locales"
_spoken = ["en"]  # the language of what this process prints itself (a kernel: the app's, see speak())


@cache
def catalog(lang: str) -> dict[str, str]:
    """Every key of `lang`, from all of its files (a key defined twice is a bug the tests catch)."""
    merged: dict[str, str] = {}
    for part in sorted((DIR / lang).glob("*.json")):
        merged.update(json.loads(part.read_text(encoding="utf-8")))
    return merged


def text(key: str, lang: str = "en", /, **values: Any) -> str:
    """The words for `key` in `lang` with `values` filled in; English if `lang` lacks the key, the
    key itself if no language has it."""
    words = catalog(lang).get(key) or catalog("en").get(key) or key
    if not values:
        return words
    try:
        return words.format(**{k: _worded(v, lang) for k, v in values.items()})
    except (KeyError, IndexError, ValueError):  # a placeholder the values lack: show it as written
        return words


def counted(key: str, n: int, /) -> str:
    """`key`, or its `key_one` variant where `n` is 1 and the catalog has one: English says
    "1 cell", "1 step", where the plural wording would say "1 cells"."""
    return f"{key}_one" if n == 1 and f"{key}_one" in catalog("en") else key


def _worded(value: Any, lang: str) -> Any:
    """A value as it goes into a sentence: a Said in words, a list of them joined by "; "."""
    if isinstance(value, Said):
        return value.words(lang)
    if isinstance(value, (list, tuple)):
        return "; ".join(str(_worded(v, lang)) for v in value)
    return value


def speak(lang: str) -> None:
    """Print in `lang` from now on: the app tells its kernel its language (for %help, notes, and
    the errors a cell raises)."""
    if lang in LANGUAGES:
        _spoken[0] = lang


def spoken() -> str:
    return _spoken[0]


def say(key: str, /, **values: Any) -> str:
    """The words for `key` in the language this process prints in."""
    return text(key, _spoken[0], **values)


@dataclass(frozen=True)
class Said:
    """Something the engine says, as a catalog key and its values (which may be Saids too)."""

    code: str
    values: dict = field(default_factory=dict)

    def words(self, lang: str = "en") -> str:
        return text(self.code, lang, **self.values)


def said(code: str, /, **values: Any) -> Said:
    return Said(code, values)


class SaidError(Exception):
    """An error whose message is a `Said`: the UI words it in the reader's language."""

    def __init__(self, code: str, /, **values: Any) -> None:
        self.said = Said(code, values)
        super().__init__(self.said.words("en"))

    def __str__(self) -> str:
        return self.said.words(_spoken[0])
