"""engine/i18n.py and tui/i18n.py: one catalog per language, the same keys and placeholders in each."""

from __future__ import annotations

import string

from engine.i18n import catalog
from tui import i18n


def test_every_key_is_in_both_languages_with_the_same_placeholders():
    en, zh = catalog("en"), catalog("zh")
    assert set(en) == set(zh), sorted(set(en) ^ set(zh))
    fields = string.Formatter()
    for key in en:
        names_en = {f for _, f, _, _ in fields.parse(en[key]) if f}
        names_zh = {f for _, f, _, _ in fields.parse(zh[key]) if f}
        assert names_en == names_zh, key
        assert zh[key].strip(), key


def test_no_key_is_defined_in_two_files():
    import json

    from engine.i18n import DIR

    for lang in ("en", "zh"):
        seen: dict[str, str] = {}
        for part in sorted((DIR / lang).glob("*.json")):
            for key in json.loads(part.read_text(encoding="utf-8")):
                assert key not in seen, f"{key} in {seen.get(key)} and {part.name}"
                seen[key] = part.name


def test_language_from_locale():
    assert i18n.language_from_locale({"LANG": "zh_CN.UTF-8"}) == "zh"
    assert i18n.language_from_locale({"LC_ALL": "en_US.UTF-8", "LANG": "zh_CN.UTF-8"}) == "en"
    assert i18n.language_from_locale({"LC_MESSAGES": "zh_TW"}) == "zh"
    assert i18n.language_from_locale({}) == "en"
