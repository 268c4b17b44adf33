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


# Keys the code builds at run time, by prefix, each with the fragment of code that builds it (which
# must still be there): a catalog key under one of these prefixes counts as used.
BUILT = (
    ("ag.example.", 'f"ag.example.{key}.title"'),  # engine/grad_examples.py, tui/screens/autograd.py
    ("check.nonfinite.", 'f"check.nonfinite.{kind}"'),  # engine/gradcheck.py
    ("path.kind.", 'f"path.kind.{key}"'),  # engine/paths.py
    ("tour.", "f\"tour.{ch['id']}.\""),  # engine/tour.py: every chapter's words, from lessons/tour.json
    ("kernel.restarted", 'f"kernel.{status}"'),  # tui/kernel/base.py
    ("kernel.lost", 'f"kernel.{status}"'),
    ("kernel.signal.", 'f"kernel.signal.{name}"'),
    ("tip.", 'f"tip.{mode}"'),  # tui/app.py: a screen's tip (tooltips are literals, so checked apart)
    ("screen.", 'f"screen.{mode}"'),
    ("ex.", 'f"ex.{k}"'),  # tui/screens/export.py
    ("tr.f.", 'f"tr.f.{s.name}"'),  # tui/screens/training.py
    ("snippet.", 'f"snippet.{key}"'),  # tui/screens/pickers.py
    ("pg.copy_", 'f"pg.copy_{kind}"'),  # tui/screens/playground.py
    ("cli.train.", '"cli.train." + name'),  # engine/headless/train.py
    ("argparse.", 'startswith("argparse.")'),  # tui/cli.py: argparse's English messages, looked up by value
    ("textual.", 'startswith("textual.")'),  # tui/app.py: Textual's own palette commands, looked up by value
)
# Textual's own words for the command palette's key (a binding it adds itself), which the footer
# words through the catalog as it does every binding's
TEXTUAL = ("palette", "Open the command palette")


def test_every_key_is_used_by_the_code():
    """A key nothing says any more is found: every catalog key is a string literal in engine/ or
    tui/ (KEY_one goes with KEY, see counted()), or under a prefix the code builds keys from."""
    import ast
    import inspect
    from pathlib import Path

    import textual.app

    root = Path(__file__).parent.parent
    sources = [p.read_text(encoding="utf-8") for d in ("engine", "tui") for p in sorted((root / d).rglob("*.py"))]
    literals = {node.value for source in sources for node in ast.walk(ast.parse(source))
                if isinstance(node, ast.Constant) and isinstance(node.value, str)}
    code = "\n".join(sources)
    for prefix, fragment in BUILT:
        assert fragment in code, f"{prefix}: {fragment} is built nowhere now; drop it from BUILT"
    textual_source = inspect.getsource(textual.app)
    for words in TEXTUAL:
        assert f'"{words}"' in textual_source, f"Textual no longer says {words!r}; drop it from TEXTUAL"
    prefixes = tuple(prefix for prefix, _ in BUILT)

    def used(key: str) -> bool:
        return key in literals or key.startswith(prefixes) or key in TEXTUAL

    unused = [key for key in catalog("en") if not (used(key) or key.endswith("_one") and used(key[:-4]))]
    assert not unused, f"catalog keys nothing uses: {unused}"
