"""Counts in English agree with their noun: a message whose count can be 1 has a `_one` wording
that the code picks with `counted()` ("1 cell", "1 element compared"), or words the count so
that it reads for any number ("steps: 1"). Chinese needs no plural; it has every `_one` key too."""

from __future__ import annotations

import re

import pytest
import torch

from engine.i18n import catalog, counted, text

NOUNS = ("elements|epochs|cells|characters|steps|nodes|values|tensors|frames|times|bytes|parameters|leaves|"
         "inputs|runs|loops|devices|GPUs|processes|ranks|samples|points|units|lines|rows|columns|names|keys")
COUNT_THEN_PLURAL = re.compile(r"\{(\w+)\}(?: more)? (?:" + NOUNS + r")\b(?!/)")

# messages whose count is never 1, and why
NEVER_ONE = {
    "pg.output_cut": "output is cut only beyond thousands of characters",
    "tr.moons_result": "a data set has at least 2 samples",
    "cli.train.moons_result": "a data set has at least 2 samples",
    "attach.why.ipc_path": "said only of paths longer than a Unix socket's 107 bytes",
    "tr.ddp_status": "DDP runs with 2 ranks or more",
    "tr.ddp_done": "DDP runs with 2 ranks or more",
    "tr.ddp_fact": "DDP runs with 2 ranks or more",
    "cli.train.ddp": "DDP runs with 2 ranks or more",
    "err.ddp.gpus": "said of 2 processes or more (more than the GPUs)",
    "err.config.hidden": "{most} is the largest layer the form takes",
    "err.config.processes_range": "{most} is the most processes the form takes",
    "value.ends": "said only of tensors too long to show whole",
    "tour.check.huge": "said only beyond a million elements",
    "traceback.cut_chars": "a traceback is cut only beyond thousands of characters",
    "magic.timeit_slowest": "{ratio} is a ratio above 1",
}


def test_every_count_that_can_be_one_has_a_singular_wording():
    en, zh = catalog("en"), catalog("zh")
    lacking = sorted(key for key, words in en.items()
                     if not key.endswith("_one") and COUNT_THEN_PLURAL.search(words)
                     and f"{key}_one" not in en and key not in NEVER_ONE)
    assert not lacking, "\n".join(f"{key}: {en[key]}" for key in lacking)
    for key in en:
        if key.endswith("_one") and key != "snippet.reshape_minus_one":  # (reshape and -1)
            base = key.removesuffix("_one")
            assert base in en, key
            assert key in zh, f"{key} has no Chinese words"
            assert not re.search(r"\b1 (?:" + NOUNS + r")\b", en[key]), en[key]
    assert set(NEVER_ONE) <= set(en), set(NEVER_ONE) - set(en)


@pytest.mark.parametrize(("key", "values", "singular"), [
    ("pg.saved", {"cells": 1, "path": "a.py"}, "Saved 1 cell to a.py"),
    ("pg.copied_selection", {"chars": 1}, "(1 character)"),
    ("live.title", {"run": 3, "steps": "1", "values": ""}, "· 1 step ·"),
    ("tr.done", {"epochs": 1, "seconds": "0.10", "rate": "10"}, "Done: 1 epoch ·"),
    ("tr.stopped", {"epochs": 1, "seconds": "0.10", "rate": "10"}, "Stopped after 1 epoch ·"),
    ("cli.train.speed", {"steps": 1, "seconds": "0.10", "rate": "10", "device": "cpu"}, "1 step in"),
    ("traceback.repeated", {"n": "1"}, "repeated 1 more time]"),
    ("graph.more", {"n": 1}, "1 more node not shown"),
])
def test_a_count_of_one_reads_in_the_singular(key, values, singular):
    words = text(counted(key, 1), "en", **values)
    assert singular in words, words
    assert text(counted(key, 2), "en", **{**values, **{k: 2 for k in values if values[k] in (1, "1")}}) != words


def test_the_check_of_a_one_element_leaf_says_one_element():
    """(The Autograd screen's check used to say "1 elements compared".)"""
    from engine.kernel import inspections

    ns = {"torch": torch, "x": torch.tensor([-2.0], requires_grad=True)}
    inspection = inspections.from_expression("torch.sqrt(x).nan_to_num().sum()", ns)
    check = inspections.check(inspection.token)
    for lang in ("en", "zh"):
        lines = "\n".join(check.lines(lang))
        assert not re.search(r"\b1 elements\b", lines), lines
    lines = "\n".join(check.lines("en"))
    assert "x: 1 element compared" in lines and "the recorded gradient is NaN at the 1 element compared" in lines, lines
    assert "对比的 1 个元素上,记录的梯度是 NaN" in "\n".join(check.lines("zh"))


def test_a_nested_tensor_of_one_and_a_plot_of_one_nan_say_it_in_the_singular():
    from engine.repl.display import summary_of
    from engine.tensorplot import PlotError, plot_text

    nested = torch.nested.nested_tensor([torch.zeros(2)])
    assert "nested tensor of 1 tensor " in (summary_of(nested) or ""), summary_of(nested)
    with pytest.raises(PlotError) as info:
        plot_text(torch.tensor([float("nan")]), "v")
    assert "(1 value)" in str(info.value), str(info.value)


def test_ddp_words_its_gpu_count_for_any_number():
    words = text("err.ddp.gpus", "en", n=2, count=1)
    assert "1 are" not in words and "GPUs available: 1" in words, words
