"""engine.explain.hints and engine.explain.warnings: each hint from the error torch 2.13 really
raises (torch is the oracle of the messages), in English and Chinese, with its specifics (sizes,
dimensions, the operands as typed) in both and every placeholder filled."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
import torch
from torch import nn

from engine.explain.hints import hint_for
from engine.explain.model import Operand
from engine.explain.warnings import reworded
from engine.i18n import Said

CJK = re.compile(r"[\u4e00-\u9fff]")


def raised(fn) -> BaseException:
    try:
        fn()
    except BaseException as exc:  # noqa: BLE001 (whatever torch raises is the point)
        return exc
    raise AssertionError("torch raised nothing")


def t(expression: str, tensor: torch.Tensor) -> Operand:
    """An operand as engine.explain.operands gives it for a tensor the line typed."""
    return Operand(expression, is_tensor=True, shape=tuple(tensor.shape), dtype=str(tensor.dtype),
                   device=str(tensor.device), requires_grad=tensor.requires_grad)


def layer(expression: str, module: nn.Module, name_in_model: str = "") -> Operand:
    return Operand(expression, kind=repr(module), name_in_model=name_in_model)


def words(said: Said | None, code: str, *specifics: str) -> tuple[str, str]:
    """The hint's English and Chinese, after checking its code, that both are filled in, the
    Chinese is Chinese, and the specifics are in both."""
    assert said is not None, "no hint"
    assert said.code == code, said
    en, zh = said.words("en"), said.words("zh")
    for lang, s in (("en", en), ("zh", zh)):
        assert "{" not in s and "}" not in s, (lang, s)
        assert not s.startswith("explain."), s
        for part in specifics:
            assert part in s, (lang, part, s)
    assert not CJK.search(en), en
    assert len(CJK.findall(zh)) >= 10, zh
    return en, zh


# ---- 1. matrix products ------------------------------------------------------------------------

def test_matmul_names_the_columns_of_the_first_and_the_rows_of_the_second():
    a, b = torch.randn(2, 3), torch.randn(2, 3)
    exc = raised(lambda: a @ b)
    assert str(exc) == "mat1 and mat2 shapes cannot be multiplied (2x3 and 2x3)"
    en, zh = words(hint_for(exc, (t("a", a), t("b", b))), "explain.hint.matmul", "a", "b", "(2, 3)", "3", "2", "b.T")
    assert "so 3 against 2" in en
    assert "3 列" in zh and "2 行" in zh


@pytest.mark.parametrize("fn", [torch.mm, torch.matmul])
def test_matmul_from_the_message_alone(fn):
    exc = raised(lambda: fn(torch.randn(2, 3), torch.randn(2, 3)))
    en, zh = words(hint_for(exc), "explain.hint.matmul", "2x3")
    assert "the first matrix" in en and "第一个矩阵" in zh and "B.T" in en


def test_matmul_3d_by_2d_finds_the_batch_and_suggests_mT():
    x, w = torch.randn(2, 3, 4), torch.randn(3, 4)
    exc = raised(lambda: x @ w)
    assert "(6x4 and 3x4)" in str(exc)
    words(hint_for(exc, (t("x", x), t("w", w))), "explain.hint.matmul", "(2, 3, 4)", "(3, 4)", "w.mT")


def test_bmm_inner_dimensions():
    p, q = torch.randn(2, 3, 4), torch.randn(2, 3, 4)
    exc = raised(lambda: torch.bmm(p, q))
    assert str(exc).startswith("Expected size for first two dimensions of batch2 tensor")
    words(hint_for(exc, (t("p", p), t("q", q))), "explain.hint.matmul", "p", "q", "4", "3", "q.mT")
    words(hint_for(exc), "explain.hint.matmul", "4", "3", "B.mT")


def test_bmm_batch_sizes():
    p, q = torch.randn(2, 3, 4), torch.randn(3, 4, 4)
    exc = raised(lambda: torch.bmm(p, q))
    words(hint_for(exc, (t("p", p), t("q", q))), "explain.hint.bmm_batch", "p", "q", "2", "3")
    # `@` broadcasts the batch dimensions first: it is their broadcast that fails
    exc = raised(lambda: p @ q)
    words(hint_for(exc, (t("p", p), t("q", q))), "explain.hint.broadcast", "p", "q", "-3", "2", "3")


def test_matrix_times_vector_and_vector_dot():
    m, v = torch.randn(5, 3), torch.randn(4)
    exc = raised(lambda: m @ v)
    assert str(exc) == "size mismatch, got input (5), mat (5x3), vec (4)"
    words(hint_for(exc, (t("m", m), t("v", v))), "explain.hint.matmul_vector", "m", "v", "(5, 3)", "3", "4")
    u, w = torch.randn(3), torch.randn(4)
    exc = raised(lambda: u @ w)
    assert str(exc).startswith("inconsistent tensor size")
    words(hint_for(exc, (t("u", u), t("w", w))), "explain.hint.dot", "u", "w", "3", "4")
    words(hint_for(exc), "explain.hint.dot", "3", "4")


# ---- 14. a layer given the wrong number of features ---------------------------------------------

def test_linear_names_the_models_layer_and_its_in_features():
    model = nn.Sequential(nn.Linear(5, 3), nn.ReLU(), nn.Linear(4, 1))
    x = torch.randn(8, 5)
    exc = raised(lambda: model(x))
    assert str(exc) == "mat1 and mat2 shapes cannot be multiplied (8x3 and 4x1)"
    hidden = model[0](x).relu()
    operands = (layer("self", model[2], "2"), t("input", hidden))
    en, zh = words(hint_for(exc, operands), "explain.hint.linear", "[2]", "4", "3", "(8, 3)",
                   "nn.Linear(3, 1)")
    assert "last dimension is 4" in en and "has 3 there" in en
    assert "4 个特征" in zh


def test_linear_not_in_a_model_and_without_a_layer():
    fc, x = nn.Linear(3, 1), torch.randn(4, 5)
    exc = raised(lambda: fc(x))
    words(hint_for(exc, (layer("fc", fc), t("x", x))), "explain.hint.linear_layer", "fc", "3", "5", "x",
          "nn.Linear(5, 1)")
    words(hint_for(exc, (t("x", x),)), "explain.hint.matmul", "5")  # no layer: the matmul's words


# ---- 2. broadcasting ---------------------------------------------------------------------------

def test_broadcast_names_the_dimension_counted_from_the_right():
    a, b = torch.randn(2, 3), torch.randn(4, 2, 4)
    exc = raised(lambda: a + b)
    assert str(exc) == ("The size of tensor a (3) must match the size of tensor b (4) at non-singleton "
                        "dimension 2")
    en, zh = words(hint_for(exc, (t("a", a), t("b", b))), "explain.hint.broadcast",
                   "a", "b", "(2, 3)", "(4, 2, 4)", "-1", "3", "4")
    assert "倒数第 1 维" in zh


def test_broadcast_first_dimension_and_message_alone():
    x, y = torch.randn(5, 2, 3), torch.randn(4, 1, 3)
    exc = raised(lambda: x * y)
    en, zh = words(hint_for(exc, (t("x", x), t("y", y))), "explain.hint.broadcast", "x", "y", "-3", "5", "4")
    assert "倒数第 3 维" in zh
    words(hint_for(exc), "explain.hint.broadcast_plain", "5", "4", "0")


# ---- 3. view -----------------------------------------------------------------------------------

def test_view_on_a_non_contiguous_tensor():
    xt = torch.randn(3, 4).T
    exc = raised(lambda: xt.view(12))
    words(hint_for(exc, (t("xt", xt),)), "explain.hint.view", "xt.contiguous()", "xt.reshape(")


# ---- 4. dtypes ---------------------------------------------------------------------------------

def test_long_and_float_in_a_matmul():
    a, b = torch.ones(2, 2, dtype=torch.long), torch.ones(2, 2)
    exc = raised(lambda: a @ b)
    assert str(exc) == "expected m1 and m2 to have the same dtype, but got: long int != float"
    words(hint_for(exc, (t("a", a), t("b", b))), "explain.hint.dtype", "torch.int64", "torch.float32", "a.float()")
    words(hint_for(exc), "explain.hint.dtype", "torch.int64", "torch.float32", ".float()")


def test_expected_scalar_type_from_a_batched_matmul():
    a, b = torch.ones(2, 2, 2, dtype=torch.long), torch.ones(2, 2, 2)
    exc = raised(lambda: torch.bmm(a, b))
    assert str(exc) == "expected scalar type Long but found Float"
    words(hint_for(exc, (t("a", a), t("b", b))), "explain.hint.dtype", "a.float()")


def test_long_input_into_a_linear_layer():
    fc, x = nn.Linear(2, 1), torch.ones(3, 2, dtype=torch.long)
    exc = raised(lambda: fc(x))
    assert str(exc) == "mat1 and mat2 must have the same dtype, but got Long and Float"
    words(hint_for(exc, (layer("fc", fc), t("x", x))), "explain.hint.dtype_layer", "fc", "torch.int64", "x.float()")


def test_double_from_numpy_into_a_float32_layer():
    fc, x = nn.Linear(2, 1), torch.from_numpy(np.ones((3, 2)))
    exc = raised(lambda: fc(x))
    assert str(exc) == "mat1 and mat2 must have the same dtype, but got Double and Float"
    words(hint_for(exc, (layer("fc", fc), t("x", x))), "explain.hint.dtype_layer_double",
          "torch.float64", "x.float()", "from_numpy(a).float()", "torch.set_default_dtype")
    conv, img = nn.Conv2d(1, 1, 3), torch.ones(1, 1, 5, 5, dtype=torch.double)
    exc = raised(lambda: conv(img))
    words(hint_for(exc, (layer("conv", conv), t("img", img))), "explain.hint.dtype_layer_double", "img.float()")


# ---- 5. mean / std of integers ----------------------------------------------------------------

def test_mean_of_an_integer_tensor():
    n = torch.arange(5)
    exc = raised(lambda: n.mean())
    assert str(exc).startswith("mean(): could not infer output dtype")
    words(hint_for(exc, (t("n", n),)), "explain.hint.mean_int", "n.float().mean()", "n.mean(dtype=torch.float32)",
          "torch.int64")
    exc = raised(lambda: n.std())
    words(hint_for(exc, (t("n", n),)), "explain.hint.std_int", "n.float().std()", "torch.int64")
    words(hint_for(exc), "explain.hint.std_int_plain", ".float().std()")


# ---- 6. devices (no GPU here: the message as torch words it) -----------------------------------

def test_device_mismatch_says_which_tensor_is_where():
    exc = RuntimeError("Expected all tensors to be on the same device, but found at least two devices, "
                       "cuda:0 and cpu!")
    x = Operand("x", is_tensor=True, shape=(4, 3), dtype="torch.float32", device="cuda:0")
    w = Operand("w", is_tensor=True, shape=(3, 1), dtype="torch.float32", device="cpu")
    words(hint_for(exc, (x, w)), "explain.hint.device", "x", "w", "cuda:0", "cpu", "w.to('cuda:0')")
    words(hint_for(exc), "explain.hint.device_plain", "cuda:0", "cpu", ".to('cuda:0')")
    exc = RuntimeError("Expected all tensors to be on the same device, but got mat2 is on cpu, different from "
                       "other tensors on cuda:0 (when checking argument in method wrapper_CUDA_mm)")
    words(hint_for(exc, (x, w)), "explain.hint.device", "w.to('cuda:0')")


def test_numpy_of_a_gpu_tensor():
    exc = TypeError("can't convert cuda:0 device type tensor to numpy. Use Tensor.cpu() to copy the tensor to "
                    "host memory first.")
    x = Operand("x", is_tensor=True, shape=(3,), dtype="torch.float32", device="cuda:0")
    words(hint_for(exc, (x,)), "explain.hint.numpy_cuda", "x.cpu().numpy()", "cuda:0")


# ---- 7-11. autograd ----------------------------------------------------------------------------

def test_backward_of_a_non_scalar():
    y = torch.ones(3, requires_grad=True) * 2
    exc = raised(lambda: y.backward())
    assert str(exc) == "grad can be implicitly created only for scalar outputs"
    words(hint_for(exc, (t("y", y),)), "explain.hint.backward_scalar", "y.sum().backward()", "(3,)",
          "torch.ones_like(y)")
    words(hint_for(exc), "explain.hint.backward_scalar_plain", ".sum()", "torch.ones_like(y)")


def test_in_place_update_of_a_leaf():
    w = torch.ones(3, requires_grad=True)

    def step():
        nonlocal w
        w -= 0.1

    exc = raised(step)
    words(hint_for(exc, (t("w", w),)), "explain.hint.leaf_inplace", "with torch.no_grad():", "w -= lr * w.grad")


def test_a_saved_tensor_modified_in_place():
    def run():
        x = torch.ones(2, 3, requires_grad=True)
        y = x.exp()
        y.add_(1)
        y.sum().backward()

    exc = raised(run)
    assert "[torch.FloatTensor [2, 3]], which is output 0 of Exp" in str(exc)
    en, zh = words(hint_for(exc), "explain.hint.inplace_version", "torch.FloatTensor", "(2, 3)", "Exp",
                   "x = x * 2", "x *= 2", ".clone()")
    assert "version 1" in en and "version 0" in en
    assert "第 1 版" in zh and "第 0 版" in zh


def test_backward_through_a_freed_graph():
    x = torch.ones(3, requires_grad=True)
    loss = x.exp().sum()
    loss.backward()
    exc = raised(loss.backward)
    words(hint_for(exc, (t("loss", loss),)), "explain.hint.backward_twice", "retain_graph=True")


def test_numpy_of_a_tensor_that_requires_grad():
    w = torch.ones(3, requires_grad=True)
    exc = raised(w.numpy)
    words(hint_for(exc, (t("w", w),)), "explain.hint.numpy_grad", "w.detach().numpy()", ".cpu()")


# ---- 12, 13. item, indices ---------------------------------------------------------------------

def test_item_of_many_elements():
    x = torch.ones(2, 3)
    exc = raised(x.item)
    assert str(exc) == "a Tensor with 6 elements cannot be converted to Scalar"
    words(hint_for(exc, (t("x", x),)), "explain.hint.item", "6", "(2, 3)", "x[0, 0].item()", "x.sum().item()")
    words(hint_for(exc), "explain.hint.item_plain", "6", ".sum().item()")


def test_index_out_of_range():
    x = torch.ones(3, 4)
    exc = raised(lambda: x[1, 7])
    assert str(exc) == "index 7 is out of bounds for dimension 1 with size 4"
    en, zh = words(hint_for(exc, (t("x", x),)), "explain.hint.index", "7", "x", "4", "3", "-4")
    assert "dimension 1" in en and "0 to 3" in en
    assert "第 1 维" in zh and "0 到 3" in zh
    exc = raised(lambda: torch.ones(3)[-5])
    words(hint_for(exc), "explain.hint.index", "-5", "2", "-3")


# ---- 15. CrossEntropyLoss targets --------------------------------------------------------------

LOSS = Operand("loss_fn", kind="CrossEntropyLoss()")


@pytest.mark.parametrize("target", [torch.tensor([0.0, 1, 2, 1]), torch.eye(5)[[0, 1, 2, 1]],
                                    torch.eye(3, dtype=torch.long)[[0, 1, 2, 1]]],
                         ids=["float indices", "one-hot of the wrong width", "long one-hot"])
def test_cross_entropy_wants_class_indices(target):
    out = torch.randn(4, 3)
    exc = raised(lambda: nn.CrossEntropyLoss()(out, target))
    words(hint_for(exc, (LOSS, t("out", out), t("y", target))), "explain.hint.ce_target",
          "y.long()", "y.argmax(dim=1)", "(N,)", str(target.dtype))
    words(hint_for(exc), "explain.hint.ce_target_plain", "(N,)", "y.long()", "y.argmax(dim=1)")


def test_nll_loss_expected_scalar_type_long():
    """torch's own tests expect nll_loss's `expected scalar type Long but found Float`: with a loss
    among the operands it is the target's dtype, not a matmul's."""
    exc = RuntimeError("expected scalar type Long but found Float")
    out, y = torch.randn(4, 3), torch.tensor([0.0, 1, 2, 1])
    words(hint_for(exc, (LOSS, t("out", out), t("y", y))), "explain.hint.ce_target", "y.long()")


def test_cross_entropy_batch_sizes():
    out, y = torch.randn(4, 3), torch.zeros(8, dtype=torch.long)
    exc = raised(lambda: nn.CrossEntropyLoss()(out, y))
    assert isinstance(exc, ValueError)
    words(hint_for(exc, (LOSS, t("out", out), t("y", y))), "explain.hint.ce_batch", "4", "8", "(8,)", "(N,)")
    words(hint_for(exc), "explain.hint.ce_batch_plain", "4", "8", "(N,)")


# ---- no hint -----------------------------------------------------------------------------------

def test_errors_that_are_no_tensor_operation_have_no_hint():
    assert hint_for(raised(lambda: undefined_name)) is None  # type: ignore[name-defined]  # noqa: F821
    assert hint_for(raised(lambda: {}["k"])) is None
    assert hint_for(ValueError("x")) is None
    assert hint_for(RuntimeError("Numpy is not available")) is None
    assert hint_for(ValueError("mat1 and mat2 shapes cannot be multiplied (2x3 and 2x3)")) is None  # not torch's


# ---- the MSELoss warning -----------------------------------------------------------------------

def mse_warning(output: torch.Tensor, target: torch.Tensor) -> warnings.WarningMessage:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        nn.MSELoss()(output, target)
    [w] = [w for w in caught if "target size" in str(w.message)]
    return w


def test_mse_target_size_warning_is_reworded():
    w = mse_warning(torch.randn(100, 1), torch.randn(100))
    assert w.category is UserWarning and w.filename.replace("\\", "/").endswith("torch/nn/modules/loss.py")
    en = reworded(w.message, w.category, w.filename, w.lineno, "en")
    zh = reworded(w.message, w.category, w.filename, w.lineno, "zh")
    assert en == ("Warning: the target's shape (100,) differs from the output's (100, 1): MSELoss broadcasts them "
                  "to (100, 100) and the loss is wrong. Hint: y.reshape(-1, 1) (or output.squeeze(1)) gives them "
                  "the same shape.")
    assert zh is not None and CJK.search(zh)
    for s in (en, zh):
        assert "site-packages" not in s and "UserWarning" not in s and "{" not in s
        for part in ("(100,)", "(100, 1)", "(100, 100)", "MSELoss", "y.reshape(-1, 1)", "output.squeeze(1)"):
            assert part in s, (part, s)


def test_other_target_shapes_and_other_warnings():
    w = mse_warning(torch.randn(3, 4), torch.randn(4))
    for lang in ("en", "zh"):
        s = reworded(w.message, w.category, w.filename, w.lineno, lang)
        assert s is not None and "(3, 4)" in s and "(4,)" in s and "{" not in s
    w = mse_warning(torch.randn(100), torch.randn(100, 1))
    assert "y.squeeze(1)" in (reworded(w.message, w.category, w.filename, w.lineno, "en") or "")
    assert reworded("something else", UserWarning, "x.py", 1, "en") is None
    assert reworded(str(w.message), DeprecationWarning, "x.py", 1, "en") is None
    # without torch's source to read, the loss is named in words
    assert "the loss function" in (reworded(w.message, w.category, "", 0, "en") or "")
