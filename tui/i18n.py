"""The reader's language, and the app's words in it (the catalog itself is engine.i18n's)."""

from __future__ import annotations

import os
from collections.abc import Mapping

from engine.i18n import LANGUAGES, Said, catalog, counted, speak, text

__all__ = ["LANGUAGES", "catalog", "counted", "language", "language_from_locale", "said_text", "set_language", "t"]
_current = "en"


def language_from_locale(env: Mapping[str, str] | None = None) -> str:
    """The language the locale asks for: LC_ALL, then LC_MESSAGES, then LANG (`zh_CN.UTF-8` → zh)."""
    env = os.environ if env is None else env
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(var, "")
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"


def set_language(lang: str) -> None:
    """The reader's language; what the engine words in this process (the history's and the tour's
    warnings, a headless run's lines) is worded in it too."""
    global _current
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}: use {' or '.join(LANGUAGES)}")
    _current = lang
    speak(lang)


def language() -> str:
    return _current


def t(key: str, lang: str | None = None, /, **values: object) -> str:
    """The text for `key` in the current language, formatted with `values`; English if missing."""
    return text(key, lang or _current, **values)


def said_text(said: object) -> str:
    """What the engine said (a Said, or an error carrying one) in the current language; other
    errors and plain strings as they are."""
    carried = getattr(said, "said", None)  # a SaidError, or the kernel's refusal of a request
    if isinstance(carried, Said):
        said = carried
    if isinstance(said, Said):
        return said.words(_current)
    return str(said)
