"""The Learn tour: every example runs in the kernel and prints what plain Python prints, every
exercise's checks tell the solution from a wrong answer, and bad namespaces get a hint, fast."""

import functools
import os
import subprocess
import sys
import time

import pytest

from engine.i18n import catalog
from engine.protocol import TourCheck
from engine.tour import Progress, chapters

CHAPTERS = chapters("en")
PRELUDE = "import torch, numpy as np\nfrom torch import nn, optim\nimport torch.nn.functional as F\n"


def test_fourteen_chapters_in_both_languages():
    en, zh = chapters("en"), chapters("zh")
    assert [c.id for c in en] == [c.id for c in zh] == [
        "install", "create", "dtypes", "numpy", "math", "index", "shapes", "autograd", "regression",
        "module", "data", "classify", "gpu", "ddp"]
    for a, b in zip(en, zh, strict=True):
        assert a.title != b.title and a.body != b.body and a.exercise != b.exercise
        assert [e.code for e in a.examples] == [e.code for e in b.examples]
        assert 2 <= len(a.examples) <= 4
    for chapter in en[9:]:  # the chapters beyond the seed: each opens a screen
        assert chapter.opens


@functools.cache
def _plain_python() -> dict[str, list[str]]:
    """What plain Python prints for each example of each chapter (one process for the whole tour,
    each chapter's examples sharing a namespace of their own, as the kernel's cells do between two
    `%reset`s): its prints, then the repr of its last expression, as the Playground shows it."""
    program = [PRELUDE, "import ast, sys\nstart = dict(globals())\n"]
    for chapter in CHAPTERS:
        program.append("ns = dict(start)\n")
        for i, example in enumerate(chapter.examples):
            program.append(f"print('@@{chapter.id}/{i}')\ntree = ast.parse({example.code!r})\n"
                           "last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None\n"
                           "exec(compile(tree, 'cell', 'exec'), ns)\n"
                           "if last is not None:\n"
                           "    value = eval(compile(ast.Expression(last.value), 'cell', 'eval'), ns)\n"
                           "    if value is not None: print(repr(value))\n"
                           "sys.stdout.flush()\n")
    env = {**os.environ, "MPLBACKEND": "Agg"}
    out = subprocess.run([sys.executable, "-c", "".join(program)], capture_output=True, text=True, env=env,
                         timeout=600)
    assert out.returncode == 0, out.stderr
    shown: dict[str, list[str]] = {}
    for part in out.stdout.split("@@")[1:]:
        label, _, text = part.partition("\n")
        shown.setdefault(label.split("/")[0], []).append(text)
    return shown


def _words(text: str) -> list[str]:
    """Text compared as words: IPython pretty-prints a long tuple over several lines."""
    return text.replace("(", " ( ").replace(")", " ) ").replace(",", " , ").split()


@pytest.mark.slow
@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.id for c in CHAPTERS])
def test_examples_print_what_plain_python_prints_and_exercises_are_checked(kernel, chapter):
    kernel.run("%reset")
    expected = _plain_python().get(chapter.id, [])
    for example, plain in zip(chapter.examples, expected, strict=True):
        result = kernel.run(example.code, timeout=300)
        assert result.ok, f"{chapter.id}/{example.id}: {result.error_text}"
        shown = result.output + (result.value + "\n" if result.value else "")
        if not example.varies:  # (garbage memory: the two outputs differ by nature)
            assert _words(shown) == _words(plain), f"{chapter.id}/{example.id}"

    def check():
        return kernel.request(TourCheck(chapter.id))

    kernel.run("%reset")
    missing = check()
    assert not missing.passed and missing.hint.code == "tour.check.missing"
    assert kernel.run(chapter.wrong).ok
    wrong = check()
    assert not wrong.passed and wrong.hint.code.startswith("tour.")
    assert wrong.hint.code in catalog("en") and wrong.hint.code in catalog("zh")
    kernel.run("%reset")
    assert kernel.run(chapter.solution).ok
    assert check().passed


@pytest.mark.parametrize("setup,code", [
    ("t = 'seven'", "tour.check.kind"),
    ("t = torch.full((3, 4), 7, device='meta')", "tour.check.meta"),
    ("t = torch.zeros(10**8, dtype=torch.int8)", "tour.check.huge"),
])
@pytest.mark.slow
def test_bad_namespaces_get_a_hint_fast_and_nothing_of_theirs_runs(kernel, setup, code):
    kernel.run("%reset")
    assert kernel.run(setup + "\nruns = []").ok
    start = time.perf_counter()
    result = kernel.request(TourCheck("create"))
    assert time.perf_counter() - start < 5  # (the 1 s, with room for a loaded CI machine)
    assert not result.passed and result.hint.code == code
    assert "{" not in result.hint.words("zh")  # every placeholder filled


def test_a_check_never_runs_the_learners_code():
    """Names are read, never asked: an object that lies about its class, or a tensor subclass
    with a __torch_function__ of its own, runs nothing during a check."""
    import torch

    from engine.tour import check

    calls = []

    class Tricky:
        @property
        def __class__(self):
            calls.append("__class__")
            return torch.Tensor

        def __eq__(self, other):
            calls.append("__eq__")
            return True

    class Spy(torch.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            calls.append(func.__name__)
            return super().__torch_function__(func, types, args, kwargs or {})

    create = chapters("en")[1]
    assert check(create, {"t": Tricky()}).hint.code == "tour.check.kind"
    spy = torch.full((3, 4), 7).as_subclass(Spy)
    calls.clear()
    assert check(create, {"t": spy}).hint.code == "tour.check.plain"
    assert calls == []
    assert check(create, {"t": torch.full((3, 4), 7)}).passed


def test_a_tensor_on_another_device_is_named():
    import numpy as np
    import torch

    from engine.tour import _screen

    create, gpu = chapters("en")[1], next(c for c in chapters("en") if c.id == "gpu")
    assert gpu.any_device and not create.any_device
    meta = torch.zeros(3, 4, dtype=torch.long, device="meta")
    assert _screen(create, {"t": meta}, torch, np).code == "tour.check.meta"
    if torch.cuda.is_available():
        on_gpu = torch.zeros(3, 4, dtype=torch.long, device="cuda")
        hint = _screen(create, {"t": on_gpu}, torch, np)
        assert hint.code == "tour.check.device" and hint.words().endswith("t = t.cpu()")
        assert _screen(gpu, {"x": on_gpu}, torch, np) is None


def test_progress_is_saved_and_survives_a_corrupt_file(tmp_path):
    path = tmp_path / "progress.json"
    p = Progress(path)
    p.mark_read("create")
    p.mark_passed("create")
    again = Progress(path)
    assert again.read == {"create"} and again.passed == {"create"} and again.current == "create"
    assert (path.stat().st_mode & 0o777) == 0o600
    path.write_text("{not json")
    broken = Progress(path)
    assert broken.read == set() and "could not be read" in broken.warning


@pytest.mark.slow
def test_a_check_sent_while_a_cell_runs_is_answered_after_it(kernel):
    """Checks read the namespace between cells: one asked for during a cell waits for its end
    (so a half-run cell is never checked)."""
    from tui.kernel import events as ev

    kernel.run("%reset")
    cell = kernel.send("import time\nt = torch.ones(3, 4)\nend = time.time() + 2\nwhile time.time() < end:\n    pass\n"
                       "t = torch.full((3, 4), 7)")
    assert kernel.first_since(0, lambda e: isinstance(e, ev.CellStarted) and e.cell == cell, 30), "never started"
    result = kernel.request(TourCheck("create"))
    assert result.passed  # mid-cell, t would still be ones: the check came after the cell's last line
