"""How the kernel's display data and errors read in the Playground."""

from __future__ import annotations

from tui.i18n import t

SUMMARY_MIME = "application/vnd.torchtui.summary+json"  # the same name as engine.kernel.extension's

HINTS = (  # (what the error says, the catalog key of what to do about it)
    ("can't allocate memory", "hint.cpu_memory"),
    ("out of memory", "hint.device_memory"),
    ("not compiled with cuda", "hint.no_cuda_build"),
    ("no cuda gpus are available", "hint.no_cuda_gpu"),
    ("device-side assert", "hint.device_assert"),
)


MEMORY_HINTS = {"hint.cpu_memory", "hint.device_memory"}
EXPLANATION_START = "\x1b[33m"  # engine.kernel.tracebacks' explanation, the traceback's last part


def hint_for(ename: str, evalue: str, traceback: tuple[str, ...] | list[str] = ()) -> str:
    """A sentence in the reader's language that says what to do about an error, or ''. An
    out-of-memory error the kernel explained itself under `traceback` (what was asked, what is
    held, what to try: engine.explain.memory) gets no second, shorter hint."""
    if ename == "RecursionError":
        return t("hint.recursion")
    text = f"{ename} {evalue}".lower()
    explained = bool(traceback) and traceback[-1].startswith(EXPLANATION_START)
    for needle, hint in HINTS:
        if needle in text:
            return "" if hint in MEMORY_HINTS and explained else t(hint)
    return ""


def text_of(data: dict) -> str:
    """The text to show for a mime bundle: text/plain, else a line naming what was sent."""
    if "text/plain" in data:
        return str(data["text/plain"])
    kinds = ", ".join(k for k in data if k != SUMMARY_MIME)

    return t("pg.not_shown", kinds=kinds or "empty")


def summary_line(data: dict) -> str:
    summary = data.get(SUMMARY_MIME)
    return str(summary.get("summary", "")) if isinstance(summary, dict) else ""


ERROR_CHARS = 20_000  # what the Playground keeps of one error (the kernel torchtui starts sends less)


def bounded_error(traceback: tuple[str, ...], evalue: str, limit: int = ERROR_CHARS) -> tuple[tuple[str, ...], str]:
    """An error's traceback and message within `limit` characters each, for a kernel that does not
    bound them itself (someone else's, attached to): the traceback's first part and its last ones
    (where the exception is), and a line saying how much was left out between them."""
    if len(evalue) > limit:
        evalue = evalue[:limit] + "…"
    if sum(map(len, traceback)) <= limit:
        return traceback, evalue
    parts = [p if len(p) <= limit // 4 else p[:limit // 8] + "…" + p[-limit // 8:] for p in traceback]
    tail: list[str] = []
    room = limit - len(parts[0])
    for part in reversed(parts[1:]):
        if len(part) > room:
            break
        tail.insert(0, part)
        room -= len(part)
    left_out = sum(map(len, traceback)) - len(parts[0]) - sum(map(len, tail))
    return (parts[0], t("traceback.cut_chars", n=f"{left_out:,}"), *tail), evalue
