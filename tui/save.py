"""A Playground session kept as a file: the cells as a Python script, or as a Jupyter notebook
(nbformat) with their outputs, which Jupyter opens as if it had run them."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

from engine import paths
from engine.i18n import SaidError

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@dataclass
class SessionCell:
    """One cell as the Playground saw it run."""

    number: int
    source: str
    stdout: str = ""
    stderr: str = ""
    value: dict | None = None  # the execute_result's mime bundle
    error: tuple[str, str, tuple[str, ...]] | None = None  # ename, evalue, traceback
    displays: list[dict] = field(default_factory=list)


class SaveError(SaidError):
    """The file cannot be written; the message says why (in the reader's language)."""


# live() is torchtui's (see engine.kernel.live): a script run where it is loaded (%run in the
# Playground, a notebook with the extension) uses that one; plain Python gets one that keeps the
# numbers (live.export still writes them) and plots nothing, or, with no torchtui installed, one
# that does nothing.
LIVE_PRELUDE = """\
try:  # live() plots in torchtui; in plain Python nothing is plotted
    live
except NameError:
    try:
        from engine.kernel.live import Live

        live = Live(lambda *_, **__: None)
    except ImportError:
        def live(**values):
            pass
"""


def script_text(cells: list[SessionCell]) -> str:
    parts = ["# Saved from a torchtui Playground session: each cell as it was run.\n"]
    sources = []
    for cell in cells:
        source = cell.source
        if _is_magic(source):  # a magic or a shell line is not Python
            source = "\n".join("# " + line for line in source.splitlines())
        sources.append((cell.number, source))
    if any(_uses_live(source) for _, source in sources):
        parts.append(LIVE_PRELUDE)
    parts += [f"# In [{number}]:\n{source}\n" for number, source in sources]
    return "\n".join(parts)


def _is_magic(source: str) -> bool:
    return source.lstrip().startswith(("%", "!"))


LIVE_NAME = re.compile(r"\blive\b")


def _uses_live(source: str) -> bool:
    """Whether a cell's code names live (calls it, or live.export); a cell Python cannot parse
    (IPython's own syntax, say) is searched as text."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return bool(LIVE_NAME.search(source))
    return any(isinstance(node, ast.Name) and node.id == "live" for node in ast.walk(tree))


def notebook(cells: list[SessionCell]):
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook, new_output

    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    for cell in cells:
        outputs = []
        for name, text in (("stdout", cell.stdout), ("stderr", cell.stderr)):
            if text:
                outputs.append(new_output("stream", name=name, text=text))
        for data in cell.displays:
            outputs.append(new_output("display_data", data=_plain(data)))
        if cell.value is not None:
            outputs.append(new_output("execute_result", data=_plain(cell.value), execution_count=cell.number))
        if cell.error is not None:
            ename, evalue, traceback = cell.error
            outputs.append(new_output("error", ename=ename, evalue=evalue, traceback=list(traceback)))
        nb.cells.append(new_code_cell(cell.source, execution_count=cell.number, outputs=outputs))
    nbformat.validate(nb)
    return nb


def _plain(data: dict) -> dict:
    """The mime types a notebook knows: torchtui's own summary goes along as text."""
    out = {k: v for k, v in data.items() if not k.startswith("application/vnd.torchtui")}
    summary = data.get("application/vnd.torchtui.summary+json")
    if isinstance(summary, dict) and summary.get("summary") and "text/plain" in out and not summary.get("in_text"):
        out["text/plain"] = f"{out['text/plain']}\n# {summary['summary']}"
    return out or {"text/plain": ""}


def save(cells: list[SessionCell], path: Path) -> Path:
    """Write the session to `path`: .ipynb as a notebook, anything else as a script."""
    path = Path(path).expanduser()
    try:
        if path.suffix.lower() == ".ipynb":
            import nbformat

            text = nbformat.writes(notebook(cells))
        else:
            text = script_text(cells)
        # mode 0600, a regular file or nothing replaced: a FIFO there would freeze the app in open()
        paths.write_private(path, text)
    except OSError as exc:
        raise SaveError("err.save.write", path=str(path), error=exc.strerror or str(exc)) from None
    return path


def save_figure(png: bytes, path: Path) -> Path:
    """Write a figure's PNG as it came from the kernel."""
    path = Path(path).expanduser()
    try:
        paths.write_private(path, png)
    except OSError as exc:
        raise SaveError("err.save.write", path=str(path), error=exc.strerror or str(exc)) from None
    return path
