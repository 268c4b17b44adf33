"""Wholly Chinese: every screen and every tour chapter in --lang zh, walked by keyboard, shows no
English sentence outside code and identifiers (the catalog's own checks are in
test_engine_i18n.py)."""

from __future__ import annotations

import html
import re

import pytest

from engine.i18n import text
from engine.tour import chapters
from tests.helpers import log_text, running, screen_ready, type_cell, wait_for
from tui.app import make_app

STOPWORDS = {"the", "a", "an", "to", "of", "is", "and", "in", "for", "with", "on", "from", "it", "this", "that",
             "be", "are", "by", "or", "not", "no", "as", "at", "your", "you", "its", "was", "has", "have", "can",
             "will", "into", "than", "then", "each", "every", "yet", "only", "there", "here", "what", "which"}
WORDS = re.compile(r"[A-Za-z]+(?:'[a-z]+)?(?:\s+[A-Za-z]+(?:'[a-z]+)?){3,}")


def english_sentences(text: str) -> list[str]:
    """Runs of four or more English words of which at least two are small words a sentence needs
    (the, to, of …), and any run of six or more: identifiers and code seldom look like that,
    prose always does."""
    found = []
    for run in WORDS.findall(text):
        words = run.lower().split()
        if sum(w in STOPWORDS for w in words) >= 2 or len(words) >= 6:
            found.append(run)
    return found


def screen_lines(app) -> list[str]:
    """What the terminal shows, line by line, from the app's own screenshot."""
    rows: dict[float, list[tuple[float, str]]] = {}
    for x, y, body in re.findall(r'<text class="[^"]*-r\d+"[^>]* x="([\d.]+)" y="([\d.]+)"[^>]*>([^<]*)</text>',
                                 app.export_screenshot()):
        rows.setdefault(float(y), []).append((float(x), html.unescape(body).replace("\xa0", " ")))
    return ["".join(part for _, part in sorted(parts)) for _, parts in sorted(rows.items())]


def code_lines() -> set[str]:
    """Lines of code the screens show as code (the tour's examples and commands, the inspector's
    examples): English there is Python, not prose."""
    from engine import grad_examples

    lines = set()
    for chapter in chapters("zh"):
        for block in [e.code for e in chapter.examples] + list(chapter.shell) + [chapter.solution]:
            lines |= {ln.strip() for ln in block.splitlines() if ln.strip()}
    for name in ("MATRIX", "MLP"):
        lines |= {ln.strip() for ln in getattr(grad_examples, name).splitlines()}
    for key in grad_examples.EXAMPLES:
        lines |= {ln.strip() for ln in grad_examples.EXAMPLES[key].build().code.splitlines()}
    return {ln for ln in lines if ln}


def prose_in(app, code: set[str]) -> list[str]:
    bad = []
    for line in screen_lines(app):
        body = line.strip(" │▕▏▌▐┃")
        if not body or any(c and (c in body or body in c) for c in code if len(c) > 8):
            continue
        bad += english_sentences(body)
    return bad


def cli_help(*args: str) -> str:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "tui", "--lang", "zh", *args, "--help"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_every_commands_help_in_chinese_has_no_english_prose_and_lists_choices_and_defaults():
    main, train, grad = cli_help(), cli_help("train"), cli_help("grad")
    for page in (main, train, grad):
        assert page.startswith("用法：") and "选项" in page and "显示本帮助并退出" in page
        assert not english_sentences(page), english_sentences(page)
    assert "--task {regression,moons}" in train and "--optimizer {sgd,momentum,adam}" in train
    assert "--loader {dataloader,tensor}" in train and "默认：sgd；--task moons 时：momentum" in train
    assert "--example {scalar,matrix,mlp,accumulate,detach}" in grad and "默认：scalar" in grad
    assert "--screen {playground,autograd,train,learn,model,gpu}" in main and "默认：playground" in main


def test_the_detector_finds_english_prose_and_passes_identifiers():
    assert english_sentences("the gradient passes through unchanged to the input")
    assert english_sentences("叶子 w:leaf w: backward() adds the incoming gradient to .grad")
    assert english_sentences("Recursion too deep: a function called itself too many times.")
    assert not english_sentences("torch.nn.functional.mse_loss requires_grad=True grad_fn MulBackward0")
    assert not english_sentences("训练 · torch 2.13.0+cpu · cpu · MLP 2 → 16 → 2")


def chinese_app(kernel=None):
    app = make_app(screen="learn", lang="zh", device="cpu", kernel=kernel)
    found: dict[str, list[str]] = {}

    def look(where: str) -> None:
        bad = prose_in(app, code_lines())
        if bad:
            found[where] = bad

    return app, found, look


async def test_every_screen_and_chapter_in_chinese_shows_no_english_prose():
    """On an in-process kernel with the engine's answers: the tour's hints, the inspector's
    recordings and checks, and a training run's refusal are the engine's words."""
    from tests.engine_in_process import engine_kernel, serve_engine

    kernel = engine_kernel()
    serve_engine(kernel)
    app, found, look = chinese_app(kernel)
    async with running(app, size=(160, 60)) as pilot:
        assert await screen_ready(pilot)
        assert await wait_for(pilot, lambda: app.kernel.ready, 120)
        learn = app.screen
        for i, chapter in enumerate(learn.chapters):
            learn.index = i
            learn.feedback = None
            learn._show()
            await pilot.press("c")  # nothing defined yet: a hint, in Chinese
            await wait_for(pilot, lambda: learn.feedback is not None, 30)
            await pilot.pause(0.1)
            look(f"learn/{chapter.id}")

        await pilot.press("f2")
        assert await screen_ready(pilot)
        await pilot.press("ctrl+o")  # the snippet picker
        await pilot.pause(0.3)
        look("playground/snippets")
        await pilot.press("escape")
        await pilot.press("f1")
        await pilot.pause(0.3)
        look("help")
        await pilot.press("escape")

        await pilot.press("f3")
        assert await screen_ready(pilot)
        autograd = app.screen
        for key in ("scalar", "matrix", "mlp", "accumulate", "detach"):
            autograd.load_example(key)
            name = text(f"ag.example.{key}.name", "zh")  # the example's name, in Chinese too
            assert await wait_for(pilot, lambda name=name: autograd.title_text.startswith(name + ":"), 60)
            for _ in range(len(autograd.recording.steps)):
                look(f"autograd/{key}/step {autograd.index + 1}")
                autograd.action_step(1)
                await pilot.pause(0.02)
            autograd.action_view("forward")
            await pilot.pause(0.05)
            look(f"autograd/{key}/forward")
            autograd.action_check()
            assert await wait_for(pilot, lambda: bool(autograd.check_text), 60)
            await pilot.pause(0.05)
            look(f"autograd/{key}/check")

        await pilot.press("f4")
        assert await screen_ready(pilot)
        training = app.screen
        training.query_one("#f-lr").value = "-1"
        await pilot.pause(0.1)
        look("training/bad field")
        training.query_one("#f-lr").value = "5"
        training.query_one("#f-epochs").value = "30"
        await pilot.press("ctrl+g")  # the gradients' panel too: it names the layers that exploded
        await pilot.press("ctrl+r")
        assert await wait_for(pilot, lambda: not training.running and training.config is not None, 120)
        await pilot.pause(0.2)
        look("training/diverged")
    assert not found, found


@pytest.mark.slow  # a kernel process: see the docstring
async def test_the_kernels_own_words_in_chinese_show_no_english_prose():
    """On a real kernel: its magics' and helpers' words (%help, %who, %autograd, %plot, live(),
    help(), exit) are said by the kernel's extension, which a fake does not run."""
    from tui.kernel.base import Status

    app, found, look = chinese_app()
    async with running(app, size=(160, 60)) as pilot:
        assert await screen_ready(pilot)
        assert await wait_for(pilot, lambda: app.kernel.ready, 120)
        await pilot.press("f2")
        assert await screen_ready(pilot)
        for cell in ("exit", "help()", "%help", "%who", "%autograd 3", "torch.ones(2, 3) @ torch.ones(2, 3)",
                     "%plot torch.zeros(2, 2, 2)", "live(loss='x')", "f = lambda: f()", "f()",
                     "torch.arange(6.).reshape(2, 3)"):
            before = len(log_text(app))
            await type_cell(pilot, cell)
            # (a cell is done once its output has all come: the kernel's idle after it)
            assert await wait_for(pilot, lambda before=before, cell=cell: app.kernel.status is Status.IDLE
                                  and len(log_text(app)) > before + len(cell), 30), cell
            look(f"playground: {cell}")
    assert not found, found


@pytest.mark.slow  # the data-parallel run's ranks are processes
async def test_training_runs_in_chinese_show_no_english_prose():
    """A moons run and a run on two processes, their status, plots and results: the engine's
    words (the runs are the engine's, in this process: tests/engine_in_process.py)."""
    from engine.training import defaults
    from tests.engine_in_process import ranks_app

    app, _kernel = ranks_app(screen="train", lang="zh", device="cpu")
    found: dict[str, list[str]] = {}
    async with running(app, size=(160, 60)) as pilot:
        assert await screen_ready(pilot)
        training = app.screen
        training.set_config(defaults("moons"))
        training.query_one("#f-epochs").value = "5"
        training.query_one("#f-device").value = "cpu"
        await pilot.press("ctrl+r")
        assert await wait_for(pilot, lambda: training.result is not None, 120)
        await pilot.pause()
        if bad := prose_in(app, code_lines()):
            found["training/moons"] = bad
        training.query_one("#f-processes").value = "2"
        await pilot.press("ctrl+r")
        assert await wait_for(pilot, lambda: training.result is not None and training.config.processes == 2, 180)
        await pilot.pause()
        if bad := prose_in(app, code_lines()):
            found["training/two processes"] = bad
    assert not found, found
