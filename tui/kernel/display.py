"""How the kernel's display data and errors read in the Playground."""

from __future__ import annotations

SUMMARY_MIME = "application/vnd.torchtui.summary+json"  # the same name as engine.kernel.extension's

HINTS = (
    ("can't allocate memory", "Out of memory: that tensor is bigger than free memory. Try a smaller shape; "
                              "your other variables are fine."),
    ("out of memory", "Out of memory on the device: try a smaller shape, or F9 to restart the kernel and "
                      "give all its memory back."),
    ("not compiled with cuda", "This torch build has no CUDA (or this machine has no GPU): use device='cpu'."),
    ("no cuda gpus are available", "No CUDA GPU is available here: use device='cpu'."),
    ("device-side assert", "A CUDA device-side assert leaves CUDA unusable in this kernel: press F9 to "
                           "restart it (your history is kept)."),
)


def hint_for(ename: str, evalue: str) -> str:
    """A sentence that says what to do about an error, or ''."""
    if ename == "RecursionError":
        return "Recursion too deep: a function called itself too many times. Check its stopping condition."
    text = f"{ename} {evalue}".lower()
    for needle, hint in HINTS:
        if needle in text:
            return hint
    return ""


def text_of(data: dict) -> str:
    """The text to show for a mime bundle: text/plain, else a line naming what was sent."""
    if "text/plain" in data:
        return str(data["text/plain"])
    kinds = ", ".join(k for k in data if k != SUMMARY_MIME)
    return f"[{kinds or 'empty'} output: not shown in the terminal]"


def summary_line(data: dict) -> str:
    summary = data.get(SUMMARY_MIME)
    return str(summary.get("summary", "")) if isinstance(summary, dict) else ""
