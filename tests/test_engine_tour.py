"""The Learn tour: every example runs in the kernel and prints what plain Python prints (or, with
the Playground's own commands, what it says it shows), every exercise's checks tell the solution
from a wrong answer, and bad namespaces get a hint, fast."""

import functools
import os
import re
import subprocess
import sys
import time

import pytest

from engine.i18n import catalog
from engine.protocol import ModelShown, TourCheck, TrainFinished, TrainShown
from engine.tour import Progress, chapters

CHAPTERS = chapters("en")
PRELUDE = "import torch, numpy as np\nfrom torch import nn, optim\nimport torch.nn.functional as F\n"


def test_fifteen_chapters_in_both_languages():
    en, zh = chapters("en"), chapters("zh")
    assert [c.id for c in en] == [c.id for c in zh] == [
        "install", "create", "dtypes", "numpy", "math", "index", "shapes", "autograd", "regression",
        "module", "data", "classify", "gpu", "ddp", "own"]
    for a, b in zip(en, zh, strict=True):
        assert a.title != b.title and a.body != b.body and a.exercise != b.exercise
        assert [e.code for e in a.examples] == [e.code for e in b.examples]
        assert 2 <= len(a.examples) <= 4
    for chapter in en[9:]:  # the chapters beyond the seed: each opens a screen
        assert chapter.opens


def test_an_example_plain_python_cannot_run_says_what_it_prints():
    """A line of the Playground's own (%model, %train) is no Python: its example is a playground
    one, which the kernel test holds to what it says it shows instead of to plain Python."""
    for chapter in CHAPTERS:
        for example in chapter.examples:
            commands = re.search(r"^%", example.code, re.M) is not None
            assert not commands or example.playground, f"{chapter.id}/{example.id}"
            starts_processes = "torch.distributed.run" in example.code or "torchrun(" in example.code
            assert bool(example.shows) == (example.playground or starts_processes), f"{chapter.id}/{example.id}"


@functools.cache
def _plain_python() -> dict[str, list[str]]:
    """What plain Python prints for each example of each chapter (one process for the whole tour,
    each chapter's examples sharing a namespace of their own, as the kernel's cells do between two
    `%reset`s): its prints, then the repr of its last expression, as the Playground shows it."""
    program = [PRELUDE, "import ast, sys\nstart = dict(globals())\n"]
    for chapter in CHAPTERS:
        program.append("ns = dict(start)\n")
        for i, example in enumerate(e for e in chapter.examples if not e.shows):
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


def _run(kernel, code: str):
    """Run a cell as the learner does: one that starts a training run (%train) is over when the
    run is (the learner reads its results once Training says Done), and the run must end well;
    one that says %model must have sent the Model view its summary."""
    with kernel.cond:
        mark = len(kernel.events)
    result = kernel.run(code, timeout=300)
    if result.ok and re.search(r"^%train\b", code, re.M):
        shown = kernel.first_since(mark, lambda e: isinstance(e, TrainShown), 30)
        assert shown is not None, f"no run started: {code!r}"
        end = kernel.first_since(mark, lambda e: isinstance(e, TrainFinished) and e.run == shown.run, 300)
        assert end is not None and end.error is None, f"the run of {code!r} ended with {end}"
    if result.ok and re.search(r"^%model\b", code, re.M):
        assert kernel.first_since(mark, lambda e: isinstance(e, ModelShown), 30), f"no summary: {code!r}"
    return result


@pytest.mark.slow
@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.id for c in CHAPTERS])
def test_examples_print_what_plain_python_prints_and_exercises_are_checked(kernel, chapter):
    kernel.run("%reset")
    plain = iter(_plain_python().get(chapter.id, []))
    for example in chapter.examples:
        result = _run(kernel, example.code)
        assert result.ok, f"{chapter.id}/{example.id}: {result.error_text}"
        shown = result.output + (result.value + "\n" if result.value else "")
        expected = example.shows or next(plain)  # (torchrun's ranks print what they print in either)
        if not example.varies:  # (garbage memory: the two outputs differ by nature)
            assert _words(shown) == _words(expected), f"{chapter.id}/{example.id}"

    def check():
        return kernel.request(TourCheck(chapter.id))

    kernel.run("%reset")
    missing = check()
    assert not missing.passed and missing.hint.code == "tour.check.missing"
    assert _run(kernel, chapter.wrong).ok
    wrong = check()
    assert not wrong.passed and wrong.hint.code.startswith("tour.")
    assert wrong.hint.code in catalog("en") and wrong.hint.code in catalog("zh")
    kernel.run("%reset")
    assert _run(kernel, chapter.solution).ok
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


def test_the_own_exercise_asks_for_a_run_of_net_and_says_how_when_none_ended():
    """trained_model is what a run leaves, never assigned: missing, the hint names %train."""
    from torch import nn

    from engine.tour import check

    own = next(c for c in CHAPTERS if c.id == "own")
    net = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 2))
    assert check(own, {}).hint.code == "tour.check.missing"
    assert check(own, {"net": net}).hint.code == "tour.own.hint.no_run"
    assert "%train net" in check(own, {"net": net}).hint.words("en")
    narrow = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2))
    assert check(own, {"net": narrow, "trained_model": narrow}).hint.code == "tour.own.hint.layers"
    assert check(own, {"net": nn.Linear(2, 2), "trained_model": net}).hint.code == "tour.own.hint.layers"
    assert check(own, {"net": net, "trained_model": narrow}).hint.code == "tour.own.hint.trained"
    assert check(own, {"net": net, "trained_model": net}).passed


def test_the_own_chapters_experiment_makes_the_panel_say_vanishing():
    """What chapter 15 tells the learner to try: after example 1, the %train line with SGD at
    lr=100 sends the first epoch's loss into the millions, and the gradient-health panel marks
    layers vanishing (their ReLUs died: a gradient of 0), none exploding."""
    import numpy as np
    import torch
    from torch import nn, optim

    from engine.kernel.training_run import own_run
    from engine.training import Trainer, drive, make_config

    own = next(c for c in CHAPTERS if c.id == "own")
    namespace = {"torch": torch, "np": np, "nn": nn, "optim": optim}
    exec(own.examples[0].code, namespace)  # (plain Python: the test above holds it to that)
    model, loader, loss_fn = namespace["model"], namespace["loader"], namespace["loss_fn"]
    epochs = int(re.search(r"epochs=(\d+)", next(e for e in own.examples if e.id == "train").code).group(1))
    cfg, given, data = own_run(make_config(task="own", epochs=epochs), model, loader, loss_fn,
                               optim.SGD(model.parameters(), lr=100))
    trainer = Trainer(cfg, data, device=cfg.device, given=given, health=True)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # (82 weights: a second thread only waits for a core the other tests hold)
    try:
        assert drive(trainer).loss_history[0] > 1e6
    finally:
        torch.set_num_threads(threads)
    snapshot = trainer.health.snapshot()
    assert snapshot.vanishing and not snapshot.exploding, snapshot


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
