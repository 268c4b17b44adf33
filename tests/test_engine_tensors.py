"""engine/tensors.py and engine/repl/display.py: the summary under a value, in either language,
for floating and integer tensors, arrays and modules."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine import i18n
from engine.repl.display import summary_of
from engine.tensors import short_repr, summarize


@pytest.fixture
def chinese():
    i18n.speak("zh")
    yield
    i18n.speak("en")


def test_a_float_tensor_in_english_and_in_chinese():
    t = torch.arange(6.).reshape(2, 3)
    assert summarize(t).line() == "shape (2, 3) · float32 · cpu · min 0 max 5 mean 2.5 std 1.871"
    assert summarize(t).line("zh") == "形状 (2, 3) · float32 · cpu · 最小 0 最大 5 均值 2.5 标准差 1.871"


def test_an_integer_tensor_has_its_min_and_max():
    assert summarize(torch.tensor([[3, -1], [7, 2]])).line() == "shape (2, 2) · int64 · cpu · min -1 max 7"
    assert summarize(torch.tensor([3, 9], dtype=torch.uint8)).line("zh") == "形状 (2,) · uint8 · cpu · 最小 3 最大 9"
    assert summarize(torch.tensor([True, False])).line() == "shape (2,) · bool · cpu"


def test_grad_state_and_non_finite_values_in_chinese():
    leaf = torch.ones(2, requires_grad=True)
    assert "requires_grad（叶子）" in summarize(leaf).line("zh")
    assert "NaN 1 个" in summarize(torch.tensor([1., float("nan")])).line("zh")


def test_the_kernel_speaks_the_apps_language(chinese):
    assert summary_of(torch.arange(6.).reshape(2, 3)).startswith("形状 (2, 3) · float32 · cpu · 最小 0")
    assert summary_of(np.zeros((2, 3))) == "numpy 数组 · 形状 (2, 3) · float64 · 48 字节"
    assert summary_of(torch.nn.Linear(3, 4)) == "Linear · 16 个参数"
    assert short_repr(torch.empty(2, device="meta")) == "（meta 张量：只有形状和 dtype，没有值）"
    assert short_repr(torch.arange(100)).endswith("（共 100 个值）")


def test_english_counts_say_one_in_the_singular():
    assert summary_of(np.zeros(1, dtype=np.int8)) == "numpy array · shape (1,) · int8 · 1 byte"
    assert summary_of(np.zeros(3, dtype=np.int8)) == "numpy array · shape (3,) · int8 · 3 bytes"
    one = torch.nn.Linear(1, 1, bias=False)
    assert summary_of(one) == "Linear · 1 parameter"
    assert summary_of(torch.nn.Linear(30, 40)) == "Linear · 1,240 parameters"
