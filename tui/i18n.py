"""UI text in English and Simplified Chinese, read from the JSON files in tui/locales/."""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path

LANGUAGES = ("en", "zh")
_DIR = Path(__file__).parent / "locales"
_current = "en"


@cache
def catalog(lang: str) -> dict[str, str]:
    return json.loads((_DIR / f"{lang}.json").read_text(encoding="utf-8"))


def language_from_locale(env: dict[str, str] | None = None) -> str:
    """The language the locale asks for: LC_ALL, then LC_MESSAGES, then LANG (`zh_CN.UTF-8` → zh)."""
    env = os.environ if env is None else env
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(var, "")
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"


def set_language(lang: str) -> None:
    global _current
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}: use {' or '.join(LANGUAGES)}")
    _current = lang


def language() -> str:
    return _current


def t(key: str, lang: str | None = None, **values: object) -> str:
    """The text for `key` in the current language, formatted with `values`; English if missing."""
    text = catalog(lang or _current).get(key) or catalog("en").get(key) or key
    return text.format(**values) if values else text
