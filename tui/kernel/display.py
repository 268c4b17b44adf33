"""How the kernel's display data and errors read in the Playground."""

from __future__ import annotations

SUMMARY_MIME = "application/vnd.torchtui.summary+json"  # the same name as engine.kernel.extension's

HINTS = (  # (what the error says, the catalog key of what to do about it)
    ("can't allocate memory", "hint.cpu_memory"),
    ("out of memory", "hint.device_memory"),
    ("not compiled with cuda", "hint.no_cuda_build"),
    ("no cuda gpus are available", "hint.no_cuda_gpu"),
    ("device-side assert", "hint.device_assert"),
)


def hint_for(ename: str, evalue: str) -> str:
    """A sentence in the reader's language that says what to do about an error, or ''."""
    from tui.i18n import t

    if ename == "RecursionError":
        return t("hint.recursion")
    text = f"{ename} {evalue}".lower()
    for needle, hint in HINTS:
        if needle in text:
            return t(hint)
    return ""


def text_of(data: dict) -> str:
    """The text to show for a mime bundle: text/plain, else a line naming what was sent."""
    if "text/plain" in data:
        return str(data["text/plain"])
    kinds = ", ".join(k for k in data if k != SUMMARY_MIME)
    from tui.i18n import t

    return t("pg.not_shown", kinds=kinds or "empty")


def summary_line(data: dict) -> str:
    summary = data.get(SUMMARY_MIME)
    return str(summary.get("summary", "")) if isinstance(summary, dict) else ""
