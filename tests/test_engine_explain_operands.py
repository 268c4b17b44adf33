"""engine/explain/operands.py: the failing line and the operands of the operation that failed,
for real torch errors raised from code run as a cell runs (compiled under a cell's file name,
its source in linecache), with torch itself telling what each operand's shape, dtype, device and
requires_grad are. Nothing of the learner's is run again: counting functions and properties say so."""

from __future__ import annotations

import itertools
import linecache
import sys
import time
import types
import warnings
from collections import OrderedDict

import pytest
import torch
from torch import nn

from engine.explain.model import Operand, Site
from engine.explain.operands import MAX_OPERANDS, explain_operands

_numbers = itertools.count(1)


@pytest.fixture(autouse=True)
def cells():
    """The cells a test ran leave linecache as they found it."""
    before = set(linecache.cache)
    yield
    for name in set(linecache.cache) - before:
        linecache.cache.pop(name, None)


def cell(src: str, namespace: dict) -> None:
    """Run `src` as the kernel runs a cell: compiled under an ipykernel file name whose source is
    in linecache."""
    filename = f"/tmp/ipykernel_1/{next(_numbers)}.py"
    linecache.cache[filename] = (len(src), None, src.splitlines(True), filename)
    exec(compile(src, filename, "exec"), namespace)


def failing(src: str, namespace: dict | None = None, error: type[BaseException] = Exception):
    """The error `src` raises as a cell, and its explanation."""
    namespace = {"torch": torch, "nn": nn} if namespace is None else {"torch": torch, "nn": nn, **namespace}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(error) as caught:
            cell(src, namespace)
    found = explain_operands(caught.value, caught.value.__traceback__)
    assert found is not None
    site, operands = found
    return caught.value, site, operands, namespace


def tensor(expression: str, t: torch.Tensor) -> Operand:
    """What the operand of tensor `t` typed as `expression` should be, as torch tells it."""
    return Operand(expression, is_tensor=True, shape=tuple(t.shape), dtype=str(t.dtype),
                   device=str(t.device), requires_grad=t.requires_grad)


def not_run(expression: str) -> Operand:
    return Operand(expression, looked_up=False)


def marked(site: Site) -> str:
    """The part of the failing line Python's positions point to."""
    assert site.col is not None and site.end_col is not None
    return site.line[site.col:site.end_col]


def test_a_matmul_of_two_names():
    error, site, operands, ns = failing("a = torch.randn(2, 3)\nb = torch.randn(4, 5, dtype=torch.float64)\n"
                                        "y = a @ b\n", error=RuntimeError)
    assert "cannot be multiplied" in str(error) or "same dtype" in str(error)
    assert site.filename.startswith("/tmp/ipykernel_1/") and site.lineno == 3
    assert site.line == "y = a @ b" and marked(site) == "a @ b"
    assert operands == (tensor("a", ns["a"]), tensor("b", ns["b"]))
    assert operands[1].dtype == "torch.float64" and operands[1].shape == (4, 5)


def test_a_method_call_shows_its_receiver_then_its_arguments():
    _, site, operands, ns = failing("x = torch.randn(2, 3, requires_grad=True)\ny = torch.randn(4, 5)\n"
                                    "if True:\n    z = x.mm(y)\n", error=RuntimeError)
    assert site.lineno == 4 and site.line == "z = x.mm(y)" and marked(site) == "x.mm(y)"
    assert operands == (tensor("x", ns["x"]), tensor("y", ns["y"]))
    assert operands[0].requires_grad and not operands[1].requires_grad


def test_a_torch_function_shows_its_arguments_not_the_torch_module():
    _, site, operands, ns = failing("a = torch.ones(2, 3, dtype=torch.int32)\nb = torch.ones(2, 3, dtype=torch.int32)\n"
                                    "torch.matmul(a, b)\n", error=RuntimeError)
    assert marked(site) == "torch.matmul(a, b)"
    assert operands == (tensor("a", ns["a"]), tensor("b", ns["b"]))
    assert operands[0].dtype == "torch.int32"


def test_an_attribute_chain_in_a_method_of_a_class_of_the_cell():
    src = ("class Layer:\n"
           "    def __init__(self):\n"
           "        self.w = torch.randn(3, 4, requires_grad=True)\n"
           "    def forward(self, x):\n"
           "        h = self.w @ x\n"
           "        return h\n"
           "layer = Layer()\n"
           "layer.forward(torch.randn(5, 2))\n")
    _, site, operands, ns = failing(src, error=RuntimeError)
    assert site.lineno == 5 and site.line == "h = self.w @ x"  # the innermost frame of the learner's
    assert operands[0] == tensor("self.w", ns["layer"].w)
    assert operands[1] == Operand("x", is_tensor=True, shape=(5, 2), dtype="torch.float32", device="cpu")


def test_a_literal_subscript_of_a_batch():
    _, site, operands, ns = failing("batch = (torch.randn(8, 3), torch.zeros(8, dtype=torch.long))\n"
                                    "w = torch.randn(4, 1)\nout = batch[0] @ w\n", error=RuntimeError)
    assert marked(site) == "batch[0] @ w"
    assert operands == (tensor("batch[0]", ns["batch"][0]), tensor("w", ns["w"]))


def test_subscripts_of_a_tensor_a_dict_and_attributes_of_tensors():
    src = ("x = torch.randn(4, 3)\nd = {'key': torch.randn(2, 5)}\n"
           "w = torch.randn(3, 2, requires_grad=True)\nw.sum().backward()\n"
           "y = x[:, 1] @ d['key'] + x.T @ w.grad.T\n")
    _, site, operands, ns = failing(src, error=RuntimeError)
    assert operands == (tensor("x[:, 1]", ns["x"][:, 1]), tensor("d['key']", ns["d"]["key"]))
    src = "x = torch.randn(4, 3)\nw = torch.randn(3, 2, requires_grad=True)\nw.sum().backward()\ny = x.T @ w.grad.T\n"
    _, site, operands, ns = failing(src, error=RuntimeError)
    assert operands == (tensor("x.T", ns["x"].T), tensor("w.grad.T", ns["w"].grad.T))
    assert operands[0].shape == (3, 4) and not operands[1].requires_grad


def test_a_layers_parameter_through_its_attribute_chain():
    src = ("net = nn.Sequential(OrderedDict(fc=nn.Linear(3, 4)))\nx = torch.randn(2, 3)\n"
           "y = x @ net.fc.weight\n")
    _, _, operands, ns = failing(src, {"OrderedDict": OrderedDict}, error=RuntimeError)
    assert operands == (tensor("x", ns["x"]), tensor("net.fc.weight", ns["net"].fc.weight))
    assert operands[1].shape == (4, 3) and operands[1].requires_grad


def test_a_tensor_subclass_s_torch_function_is_not_run():
    src = ("class Counted(torch.Tensor):\n"
           "    calls = 0\n"
           "    @classmethod\n"
           "    def __torch_function__(cls, func, types, args=(), kwargs=None):\n"
           "        Counted.calls += 1\n"
           "        return super().__torch_function__(func, types, args, kwargs or {})\n"
           "a = torch.randn(2, 3).as_subclass(Counted)\nb = torch.randn(4, 5)\n"
           "Counted.calls = 0\n"
           "c = a @ b\n")
    error, site, operands, ns = failing(src, error=RuntimeError)
    # the subclass's __torch_function__ is the learner's code too: the innermost frame of theirs
    assert site.line == "return super().__torch_function__(func, types, args, kwargs or {})"
    assert ns["Counted"].calls == 1  # the cell's matmul, nothing since
    # the cell's own line: reading the subclass's shape, dtype and device runs no __torch_function__
    tb = error.__traceback__
    while tb.tb_frame.f_code.co_name != "<module>" or not tb.tb_frame.f_code.co_filename.startswith("/tmp/"):
        tb = tb.tb_next
    site, operands = explain_operands(error, types.TracebackType(None, tb.tb_frame, tb.tb_lasti, tb.tb_lineno))
    assert site.line == "c = a @ b"
    assert operands == (Operand("a", is_tensor=True, shape=(2, 3), dtype="torch.float32", device="cpu"),
                        tensor("b", ns["b"]))
    assert ns["Counted"].calls == 1


def test_a_view_of_a_tensor_that_is_not_contiguous():
    error, site, operands, ns = failing("x = torch.randn(2, 3).t()\nflat = x.view(6)\n", error=RuntimeError)
    assert "view size is not compatible" in str(error)
    assert marked(site) == "x.view(6)"
    assert operands == (tensor("x", ns["x"]), Operand("6", kind="int"))
    assert operands[0].shape == (3, 2)


def test_an_addition_that_does_not_broadcast():
    error, site, operands, ns = failing("a = torch.randn(2, 3)\nb = torch.randn(4)\nc = a + b\n",
                                        error=RuntimeError)
    assert "must match the size" in str(error)
    assert operands == (tensor("a", ns["a"]), tensor("b", ns["b"]))


def test_a_sequential_whose_second_linear_gets_the_wrong_features_names_that_layer():
    src = ("model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(5, 1))\n"
           "x = torch.randn(2, 3)\nout = model(x)\n")
    error, site, operands, ns = failing(src, error=RuntimeError)
    assert "mat1 and mat2 shapes cannot be multiplied" in str(error)
    assert marked(site) == "model(x)"
    assert operands == (Operand("model", kind="Sequential(…)"), tensor("x", ns["x"]),
                        Operand("model[2]", kind="Linear(in_features=5, out_features=1, bias=True)",
                                name_in_model="2"))
    assert repr(ns["model"][2]) == operands[2].kind  # the layer's own repr


def test_the_layer_is_named_as_the_model_names_it():
    src = ("model = nn.Sequential(OrderedDict(fc1=nn.Linear(3, 4), act=nn.ReLU(), fc2=nn.Linear(3, 1)))\n"
           "x = torch.randn(2, 3)\nout = model(x)\n")
    _, _, operands, ns = failing(src, {"OrderedDict": OrderedDict}, error=RuntimeError)
    assert operands[-1] == Operand("model.fc2", kind="Linear(in_features=3, out_features=1, bias=True)",
                                   name_in_model="fc2")
    # the input's last dimension is the first Linear's output, 4; the layer expects 3
    assert ns["model"].fc2.in_features == 3 and ns["model"].fc1.out_features == 4


def test_a_model_of_the_learners_own_shows_its_layer_call_inside_forward():
    src = ("class Net(nn.Module):\n"
           "    def __init__(self):\n"
           "        super().__init__()\n"
           "        self.fc1 = nn.Linear(3, 4)\n"
           "        self.fc2 = nn.Linear(3, 1)\n"
           "    def forward(self, x):\n"
           "        h = torch.relu(self.fc1(x))\n"
           "        return self.fc2(h)\n"
           "net = Net()\nnet(torch.randn(2, 3))\n")
    _, site, operands, _ = failing(src, error=RuntimeError)
    assert site.line == "return self.fc2(h)" and marked(site) == "self.fc2(h)"
    assert operands == (Operand("self.fc2", kind="Linear(in_features=3, out_features=1, bias=True)"),
                        Operand("h", is_tensor=True, shape=(2, 4), dtype="torch.float32", device="cpu",
                                requires_grad=True))


def test_a_loss_of_a_models_output_takes_that_output_from_the_losss_frame():
    src = ("model = nn.Linear(3, 2)\ncalls = []\n"
           "model.register_forward_hook(lambda *_: calls.append(1))\n"
           "loss_fn = nn.MSELoss()\nx = torch.randn(4, 3)\ny = torch.randn(4, 3)\n"
           "loss = loss_fn(model(x), y)\n")
    error, site, operands, ns = failing(src, error=RuntimeError)
    assert "must match the size" in str(error)
    assert marked(site) == "loss_fn(model(x), y)"
    assert operands == (Operand("loss_fn", kind="MSELoss()"),
                        Operand("model(x)", is_tensor=True, shape=(4, 2), dtype="torch.float32",
                                device="cpu", requires_grad=True),
                        tensor("y", ns["y"]))
    assert ns["calls"] == [1]  # the model ran once, when the cell ran it


def test_a_functional_loss_takes_the_output_from_its_bound_arguments():
    src = ("import torch.nn.functional as F\nmodel = nn.Linear(3, 2)\n"
           "x = torch.randn(4, 3)\ny = torch.randn(4, 3)\nloss = F.mse_loss(model(x), target=y)\n")
    _, _, operands, ns = failing(src, error=RuntimeError)
    assert operands == (Operand("model(x)", is_tensor=True, shape=(4, 2), dtype="torch.float32",
                                device="cpu", requires_grad=True),
                        tensor("target=y", ns["y"]))


def test_a_call_of_a_c_function_is_not_run_again():
    src = ("calls = []\n"
           "def f(x):\n"
           "    calls.append(x)\n"
           "    return x * 2\n"
           "x = torch.randn(2, 3)\nw = torch.randn(2, 3)\n"
           "y = f(x) @ w\n"
           "z = 0\n")
    _, site, operands, ns = failing(src, error=RuntimeError)
    assert site.line == "y = f(x) @ w"
    assert operands == (not_run("f(x)"), tensor("w", ns["w"]))
    assert len(ns["calls"]) == 1  # the cell's own call; the explainer ran nothing
    _, _, operands, ns = failing(src.replace("f(x) @ w", "torch.matmul(f(x), w)"), error=RuntimeError)
    assert operands == (not_run("f(x)"), tensor("w", ns["w"]))
    assert len(ns["calls"]) == 1


def test_an_index_out_of_range():
    error, site, operands, ns = failing("x = torch.arange(3)\nx[5]\n", error=IndexError)
    assert "out of bounds" in str(error)
    assert marked(site) == "x[5]"
    assert operands == (tensor("x", ns["x"]), Operand("5", kind="int"))
    assert operands[0].dtype == "torch.int64"
    _, _, operands, ns = failing("x = torch.arange(6).view(2, 3)\ni = 7\nx[:, -1][i]\n", error=IndexError)
    assert operands == (tensor("x[:, -1]", ns["x"][:, -1]), Operand("i", kind="int"))


def test_an_assignment_into_a_slice_shows_what_was_assigned():
    error, site, operands, ns = failing("x = torch.zeros(3)\nv = torch.ones(2)\nx[0:3] = v\n", error=RuntimeError)
    assert "expanded size" in str(error)
    assert marked(site) == "x[0:3]"
    assert operands == (tensor("x", ns["x"]), Operand("0:3", kind="slice"), tensor("v", ns["v"]))


def test_a_property_of_the_learners_is_not_run():
    src = ("class Holder:\n"
           "    calls = 0\n"
           "    @property\n"
           "    def w(self):\n"
           "        Holder.calls += 1\n"
           "        return torch.randn(4, 5)\n"
           "    def __getattr__(self, name):\n"
           "        Holder.calls += 100\n"
           "        return torch.randn(4, 5)\n"
           "h = Holder()\nx = torch.randn(2, 3)\n"
           "y = x @ h.w\n")
    _, _, operands, ns = failing(src, error=RuntimeError)
    assert operands == (tensor("x", ns["x"]), not_run("h.w"))
    assert ns["Holder"].calls == 1
    _, _, operands, ns = failing(src.replace("x @ h.w", "x @ h.missing"), error=RuntimeError)
    assert operands == (tensor("x", ns["x"]), not_run("h.missing"))
    assert ns["Holder"].calls == 100  # __getattr__ ran once, for the cell


def test_indexing_a_container_of_the_learners_is_not_run():
    src = ("class Data:\n"
           "    calls = 0\n"
           "    def __getitem__(self, i):\n"
           "        Data.calls += 1\n"
           "        return torch.randn(2, 3)\n"
           "data = Data()\nw = torch.randn(4, 1)\n"
           "y = data[0] @ w\n")
    _, _, operands, ns = failing(src, error=RuntimeError)
    assert operands == (not_run("data[0]"), tensor("w", ns["w"]))
    assert ns["Data"].calls == 1


def test_a_learners_module_repr_is_not_run():
    src = ("class Block(nn.Module):\n"
           "    calls = 0\n"
           "    def extra_repr(self):\n"
           "        Block.calls += 1\n"
           "        return 'mine'\n"
           "    def forward(self, x):\n"
           "        return x\n"
           "block = Block()\nw = torch.randn(4, 1)\n"
           "y = block(torch.randn(2, 3)) @ w\n")
    _, _, operands, ns = failing(src, error=RuntimeError)
    assert operands == (not_run("block(torch.randn(2, 3))"), tensor("w", ns["w"]))
    _, _, operands, ns = failing(src.replace("block(torch.randn(2, 3)) @ w", "torch.mm(block, w)"),
                                 error=TypeError)
    assert operands == (Operand("block", kind="Block(…)"), tensor("w", ns["w"]))
    assert ns["Block"].calls == 0


def test_a_statement_over_several_lines():
    src = ("a = torch.randn(2, 3)\nb = torch.randn(4, 5)\n"
           "y = torch.matmul(\n"
           "    a,\n"
           "    b,\n"
           ")\n")
    _, site, operands, ns = failing(src, error=RuntimeError)
    assert site.lineno == 3 and site.line == "y = torch.matmul(" and site.line[site.col:] == "torch.matmul("
    assert operands == (tensor("a", ns["a"]), tensor("b", ns["b"]))
    src = "a = torch.randn(2, 3)\nb = torch.randn(4, 5)\nc = (a +\n     b)\n"
    _, site, operands, ns = failing(src, error=RuntimeError)
    assert site.lineno == 3 and site.line == "c = (a +"
    assert operands == (tensor("a", ns["a"]), tensor("b", ns["b"]))


def test_a_function_of_one_cell_called_from_another():
    ns = {"torch": torch}
    cell("def step(w, x):\n    '''one step'''\n    return w @ x\n", ns)
    defined_in = ns["step"].__code__.co_filename
    with pytest.raises(RuntimeError) as caught:
        cell("w = torch.randn(3, 4, dtype=torch.float64)\nstep(w, torch.randn(5, dtype=torch.float64))\n", ns)
    site, operands = explain_operands(caught.value, caught.value.__traceback__)
    assert site == Site(defined_in, 3, "return w @ x", 7, 12)
    assert operands == (tensor("w", ns["w"]), Operand("x", is_tensor=True, shape=(5,), dtype="torch.float64",
                                                       device="cpu"))


def test_an_in_place_update_of_a_leaf():
    error, site, operands, ns = failing("w = torch.ones(3, requires_grad=True)\nlr = 0.1\nw -= lr * w\n",
                                        error=RuntimeError)
    assert "in-place" in str(error)
    assert site.line == "w -= lr * w" and marked(site) == "w -= lr * w"
    assert operands == (tensor("w", ns["w"]), not_run("lr * w"))
    assert operands[0].requires_grad


def test_a_list_of_tensors_in_a_call_shows_each_tensor():
    _, _, operands, ns = failing("a = torch.randn(2, 3)\nb = torch.randn(4, 5)\nc = torch.cat([a, b], dim=1)\n",
                                 error=RuntimeError)
    assert operands == (tensor("a", ns["a"]), tensor("b", ns["b"]), Operand("dim=1", kind="int"))


def test_a_nested_failing_call_is_the_one_python_points_to():
    src = ("x = torch.randn(2, 3)\nw = torch.randn(4, 4)\nv = torch.randn(4)\n"
           "y = torch.relu(torch.mm(x, w)) + v\n")
    _, site, operands, ns = failing(src, error=RuntimeError)
    assert marked(site) == "torch.mm(x, w)"
    assert operands == (tensor("x", ns["x"]), tensor("w", ns["w"]))


def test_tensors_on_another_device_say_so():
    src = "a = torch.empty(2, 3, device='meta')\nb = torch.empty(4, 5, device='meta')\nc = a @ b\n"
    _, _, operands, ns = failing(src, error=RuntimeError)
    assert operands == (tensor("a", ns["a"]), tensor("b", ns["b"]))
    assert operands[0].device == "meta"


def test_at_most_eight_operands():
    args = ", ".join(f"t{i}" for i in range(12))
    src = "".join(f"t{i} = torch.randn({i + 1})\n" for i in range(12)) + f"torch.stack([{args}])\n"
    _, _, operands, ns = failing(src, error=RuntimeError)
    assert len(operands) == MAX_OPERANDS
    assert operands == tuple(tensor(f"t{i}", ns[f"t{i}"]) for i in range(MAX_OPERANDS))


def test_no_frame_of_the_learners_or_no_source_is_none():
    assert explain_operands(ValueError(), None) is None
    try:
        torch.randn(2, 3) @ torch.randn(4, 5)
    except RuntimeError as error:
        # the test's own frame is no library's, but a frame inside torch alone is
        inner = types.TracebackType(None, _library_frame(), 0, 1)
        assert explain_operands(error, inner) is None
    filename = "/tmp/ipykernel_1/unknown.py"  # compiled, but its source never reached linecache
    with pytest.raises(RuntimeError) as caught:
        exec(compile("torch.randn(2, 3) @ torch.randn(4, 5)\n", filename, "exec"), {"torch": torch})
    assert explain_operands(caught.value, caught.value.__traceback__) is None


def _library_frame() -> types.FrameType:
    """A frame running torch's code (a module's forward, inside the library)."""
    frames = []

    class Spy(nn.Module):
        def forward(self, x):
            return x

    def trace(frame, event, arg):
        if event == "call" and frame.f_code is nn.Module._call_impl.__code__:
            frames.append(frame)
        return None

    old = sys.getprofile()
    sys.setprofile(trace)
    try:
        Spy()(torch.ones(1))
    finally:
        sys.setprofile(old)
    return frames[0]


def test_a_cell_with_magics_still_has_its_operands():
    # IPython keeps a cell's raw source in linecache: a magic there does not parse as Python
    filename = f"/tmp/ipykernel_1/{next(_numbers)}.py"
    raw = "%time 1\na = torch.randn(2, 3)\nb = torch.randn(4, 5)\ny = a @ b\n"
    linecache.cache[filename] = (len(raw), None, raw.splitlines(True), filename)
    ns = {"torch": torch}
    with pytest.raises(RuntimeError) as caught:
        exec(compile("pass\na = torch.randn(2, 3)\nb = torch.randn(4, 5)\ny = a @ b\n", filename, "exec"), ns)
    site, operands = explain_operands(caught.value, caught.value.__traceback__)
    assert site.line == "y = a @ b"
    assert operands == (tensor("a", ns["a"]), tensor("b", ns["b"]))


def test_a_deep_recursion_is_walked_once_and_quickly():
    src = ("def down(n, x):\n"
           "    if n == 0:\n"
           "        return x @ x\n"
           "    return down(n - 1, x)\n"
           "down(500, torch.randn(2, 3))\n")
    _, site, operands, _ = failing(src, error=RuntimeError)
    assert site.line == "return x @ x"
    assert operands[0].shape == (2, 3)
    # a traceback a million frames deep (a recursion under a raised limit), built from one frame
    with pytest.raises(RuntimeError) as caught:
        cell("x = torch.randn(2, 3)\ny = x @ x\n", {"torch": torch})
    last = caught.value.__traceback__
    while last.tb_next is not None:
        last = last.tb_next
    deep = None
    for _ in range(10**6):
        deep = types.TracebackType(deep, last.tb_frame, last.tb_lasti, last.tb_lineno)
    started = time.perf_counter()
    site, operands = explain_operands(caught.value, deep)
    assert time.perf_counter() - started < 3
    assert site.line == "y = x @ x" and len(operands) == 2


def test_it_never_raises():
    class Broken(BaseException):
        @property
        def __traceback__(self):
            raise RuntimeError("no")

    assert explain_operands(Broken(), None) is None
    with pytest.raises(RuntimeError) as caught:
        cell("x = torch.randn(2, 3)\ny = x @ x\n", {"torch": torch})
    tb = caught.value.__traceback__
    while tb.tb_next is not None:
        tb = tb.tb_next
    # a traceback whose instruction index points past its code
    odd = types.TracebackType(None, tb.tb_frame, 10**6, tb.tb_lineno)
    site, operands = explain_operands(caught.value, odd)
    assert site.line == "y = x @ x" and site.col is None
    assert operands == (tensor("x", tb.tb_frame.f_globals["x"]),) * 2


def test_a_layer_deep_in_the_model_is_named_by_its_dotted_path():
    src = ("model = nn.Sequential(OrderedDict(encoder=nn.Sequential(nn.Linear(3, 4), nn.Linear(5, 2))))\n"
           "out = model(torch.randn(2, 3))\n")
    _, _, operands, _ = failing(src, {"OrderedDict": OrderedDict}, error=RuntimeError)
    assert operands[-1] == Operand("model.encoder[1]", kind="Linear(in_features=5, out_features=2, bias=True)",
                                   name_in_model="encoder.1")


def test_columns_count_characters_not_bytes():
    _, site, operands, ns = failing("α = torch.randn(2, 3)\nβ = torch.randn(4, 5)\nγ = (α @ β)\n",
                                    error=RuntimeError)
    assert marked(site) == "α @ β" and site.col == 5
    assert operands == (tensor("α", ns["α"]), tensor("β", ns["β"]))


def test_an_object_that_lies_about_its_class_is_not_asked():
    src = ("class Liar:\n"
           "    calls = 0\n"
           "    @property\n"
           "    def __class__(self):\n"
           "        Liar.calls += 1\n"
           "        return torch.Tensor\n"
           "liar = Liar()\n"
           "n = len(liar)\n")
    _, _, operands, ns = failing(src, error=TypeError)
    assert operands == (Operand("liar", kind="Liar"),)
    assert ns["Liar"].calls == 0
