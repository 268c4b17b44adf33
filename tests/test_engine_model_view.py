"""The Model view's engine: a module's tree, counts, output shapes and gradient norms, with torch as
the oracle, and the model left exactly as it was (gradients, modes, hooks, buffers, random states)."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
import torch
from torch import nn

from engine.model_view import (
    MAX_NODES,
    ModelViewError,
    describe,
    describe_in,
    describe_named,
    module_names,
    sample_input,
    split_line,
    tree_lines,
)
from engine.protocol import DescribeModel, ModelShown, decode_event, encode_event
from engine.wire import from_wire, to_wire


def mlp() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))


def refusal_words(namespace: dict, line: str, code: str, lang: str) -> str:
    """`%model LINE`'s refusal, worded in `lang`: the catalog entry `code`, one sentence without
    a traceback."""
    with pytest.raises(ModelViewError) as caught:
        describe_in(namespace, line)
    said = caught.value.said
    assert said.code == code, line
    words = said.words(lang)
    assert "Traceback" not in words and "\n" not in words and words.rstrip("。.").count("。") == 0, words
    return words


def hooks_of(model: nn.Module) -> int:
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) + len(m._backward_hooks) for m in model.modules())


def test_the_issues_mlp_on_32_by_4_gives_each_layers_shape_and_67_parameters():
    net = mlp()
    summary = describe_in({"net": net}, "net, (32, 4)")
    layers = {node.path: node for node in summary.nodes}
    assert [layers[p].output_shape for p in ("0", "1", "2")] == ["(32, 8)", "(32, 8)", "(32, 3)"]
    assert {layers[p].output_dtype for p in ("0", "1", "2")} == {"float32"}
    assert summary.total == 67 == sum(p.numel() for p in net.parameters())
    assert (summary.trainable, summary.frozen) == (67, 0)
    assert summary.nbytes == 67 * 4
    assert summary.output_shape == "(32, 3)" and summary.input_shape == "(32, 4) float32"
    assert [p.shape for p in layers["0"].parameters] == ["(8, 4)", "(8,)"]
    assert (layers["0"].trainable, layers["2"].trainable, layers["1"].trainable) == (40, 27, 0)
    assert {node.device for node in summary.nodes if node.trainable} == {"cpu"}
    assert [node.class_name for node in summary.nodes] == ["Sequential", "Linear", "ReLU", "Linear"]
    assert summary.nodes[0].name == "net" and summary.nodes[0].depth == 0 and summary.nodes[1].depth == 1


class Mixed(nn.Module):
    """Train and eval submodules side by side, running statistics, and a forward that draws random
    numbers from torch, numpy and Python."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6), nn.Dropout(0.5))
        self.head = nn.Linear(6, 2)

    def forward(self, x):
        noise = torch.rand(1).item() + float(np.random.rand()) + random.random()
        return self.head(self.body(x)) + 0 * noise


def test_looking_never_changes_the_model_nor_the_random_states():
    torch.manual_seed(1)
    model = Mixed()
    model.train()
    model.body[1].eval()  # a frozen BatchNorm inside a model in train mode: both flags come back
    modes = [m.training for m in model.modules()]
    buffers = {k: v.clone() for k, v in model.state_dict().items()}
    torch.manual_seed(7)
    np.random.seed(7)
    random.seed(7)
    states = (torch.get_rng_state(), np.random.get_state(), random.getstate())
    summary = describe_named({"m": model, "x": torch.ones(5, 4)}, "m", "x")
    assert summary.input_error is None, summary.input_error
    assert {n.path: n.output_shape for n in summary.nodes}["head"] == "(5, 2)"
    assert all(p.grad is None for p in model.parameters())  # no gradient left
    assert [m.training for m in model.modules()] == modes  # each module's own flag
    assert hooks_of(model) == 0
    assert all(torch.equal(buffers[k], v) for k, v in model.state_dict().items())  # running stats too
    assert torch.equal(torch.get_rng_state(), states[0])
    assert random.getstate() == states[2]
    np_after, np_before = np.random.get_state(), states[1]
    assert np_after[0] == np_before[0] and (np_after[1] == np_before[1]).all() and np_after[2:] == np_before[2:]


def test_a_model_in_train_mode_keeps_its_batchnorm_statistics():
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4)).train()
    before = model[1].running_mean.clone(), int(model[1].num_batches_tracked)
    describe(model, "m", sample_input("(16, 3)", {}, model))
    assert torch.equal(model[1].running_mean, before[0]) and int(model[1].num_batches_tracked) == before[1]
    assert model.training and model[1].training


def test_gradients_after_a_backward_are_read_not_changed():
    net = mlp()
    net(torch.randn(10, 4)).pow(2).sum().backward()
    grads = [p.grad.clone() for p in net.parameters()]
    summary = describe(net, "net", sample_input("(2, 4)", {}, net))
    assert all(torch.equal(p.grad, g) for p, g in zip(net.parameters(), grads, strict=True))
    first = summary.nodes[1]
    assert first.parameters[0].grad_norm == pytest.approx(float(net[0].weight.grad.norm()), rel=1e-6)
    whole = float(torch.cat([p.grad.flatten() for p in net.parameters()]).norm())
    assert summary.nodes[0].grad_norm == pytest.approx(whole, rel=1e-6) and summary.has_grads
    assert summary.nodes[2].grad_norm is None  # ReLU has no parameters
    assert describe(mlp(), "fresh").has_grads is False


def test_frozen_parameters_are_counted_apart():
    net = mlp()
    net[0].requires_grad_(False)
    summary = describe(net, "net")
    assert (summary.trainable, summary.frozen) == (27, 40)
    assert summary.nodes[1].frozen == 40 and not any(p.trainable for p in summary.nodes[1].parameters)
    assert "40 (40 frozen)" in tree_lines(summary)[2]


def test_a_shared_layer_is_counted_once_and_shown_again_by_name():
    shared = nn.Linear(8, 8)
    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), shared, nn.ReLU(), shared)
    summary = describe(net, "net", sample_input("(3, 4)", {}, net))
    assert summary.total == sum(p.numel() for p in net.parameters()) == 40 + 72
    by_path = {n.path: n for n in summary.nodes}
    assert by_path["4"].shared_with == "2" and by_path["2"].calls == 2
    assert summary.modules == 5 and summary.left_out == 0  # (the two ReLUs are two modules)


def test_nested_children_get_dotted_paths_and_a_submodule_can_be_asked_by_path():
    model = nn.Sequential()
    model.add_module("encoder", nn.Sequential(nn.Linear(4, 4), nn.Tanh()))
    model.add_module("head", nn.Linear(4, 1))
    summary = describe_in({"model": model}, "model, 2, 4")
    assert [n.path for n in summary.nodes] == ["", "encoder", "encoder.0", "encoder.1", "head"]
    assert [n.depth for n in summary.nodes] == [0, 1, 2, 2, 1]
    assert summary.nodes[1].trainable == 20 and summary.nodes[1].output_shape == "(2, 4)"
    inner = describe_named({"model": model}, "model.encoder", "(5, 4)")
    assert inner.name == "model.encoder" and inner.total == 20 and inner.output_shape == "(5, 4)"


def test_ten_thousand_submodules_are_capped_and_counted():
    model = nn.Sequential(*(nn.Linear(1, 1) for _ in range(10_000)))
    summary = describe(model, "big", sample_input("(2, 1)", {}, model))
    assert len(summary.nodes) == MAX_NODES
    assert summary.modules == 10_001 and summary.left_out == 10_001 - MAX_NODES
    assert summary.total == 20_000  # the totals are the whole model's
    assert hooks_of(model) == 0
    assert len(json.dumps(to_wire(summary))) < 1_000_000
    assert "9,501 more are counted but not shown" in "\n".join(tree_lines(summary))


def test_inputs_a_tensor_a_tuple_of_tensors_a_size_and_token_ids():
    class Pair(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(3, 2)

        def forward(self, a, b):
            return self.fc(a) + b

    pair = Pair()
    namespace = {"pair": pair, "a": torch.ones(4, 3), "b": torch.zeros(4, 2)}
    assert describe_in(namespace, "pair, (a, b)").output_shape == "(4, 2)"
    assert describe_in(namespace, "pair, a, b").output_shape == "(4, 2)"
    net = mlp()
    assert describe_in({"net": net, "torch": torch}, "net, torch.Size([6, 4])").output_shape == "(6, 3)"
    emb = nn.Sequential(nn.Embedding(10, 3), nn.Flatten())
    summary = describe_in({"emb": emb}, "emb, (2, 5)")
    assert summary.output_shape == "(2, 15)" and summary.input_shape == "(2, 5) int64"
    double = nn.Linear(4, 2).double()
    assert describe_in({"d": double}, "d, (3, 4)").output_dtype == "float64"


def test_split_line():
    assert split_line("net, (32, 4)") == ("net", "(32, 4)")
    assert split_line("net") == ("net", "")
    assert split_line(" net , x ") == ("net", "x")
    assert split_line("net.encoder, 8, 4") == ("net.encoder", "8, 4")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_bad_names_and_inputs_are_one_sentence_in_the_readers_language(lang):
    net = mlp()
    namespace = {"net": net, "x": torch.ones(2, 4), "w": 3}
    cases = {"nope": "model.err.no_name", "w": "model.err.not_module", "net.fc": "model.err.no_child",
             "net, (32, 5)": "model.err.forward", "net, 'abc'": "model.err.input_kind",
             "net, undefined_thing": "model.err.input_eval", "net, (-1, 4)": "model.err.input_shape",
             "1 + 1": "model.err.bad_name"}
    for line, code in cases.items():
        refusal_words(namespace, line, code, lang)
    with pytest.raises(ModelViewError) as caught:
        describe_in(namespace, "net, (32, 5)")
    words = caught.value.said.words(lang)
    assert "0 (Linear)" in words and "(32, 5) float32" in words and "32x5 and 4x8" in words, words
    assert hooks_of(net) == 0 and net.training  # a forward that failed left nothing behind either


def test_a_bad_input_on_the_screens_question_still_gives_the_tree():
    summary = describe_named({"net": mlp()}, "net", "(32, 5)")
    assert summary.input_error is not None and summary.input_error.code == "model.err.forward"
    assert len(summary.nodes) == 4 and all(not n.output_shape for n in summary.nodes)
    assert summary.input_text == "(32, 5)"
    assert summary.input_error.words("zh").startswith("net 在 0 (Linear) 处拒绝了输入")


def test_a_lazy_layer_is_refused_untouched():
    lazy = nn.Sequential(nn.LazyLinear(3))
    own = hooks_of(lazy)  # (a lazy layer's own hook, which its first forward removes)
    with pytest.raises(ModelViewError) as caught:
        describe_in({"lazy": lazy}, "lazy, (2, 4)")
    assert caught.value.said.code == "model.err.lazy"
    assert torch.nn.parameter.is_lazy(lazy[0].weight) and hooks_of(lazy) == own


def test_the_built_in_tasks_trained_model():
    from engine.training import build_model, defaults

    for task, features in (("regression", defaults("regression").features), ("moons", 2)):
        model = build_model(defaults(task))
        summary = describe_in({"trained_model": model}, f"trained_model, (16, {features})")
        assert summary.total == sum(p.numel() for p in model.parameters())
        assert summary.output_shape == ("(16, 1)" if task == "regression" else "(16, 2)")


def test_the_summary_crosses_the_wire_whole():
    net = mlp()
    net(torch.randn(2, 4)).sum().backward()
    summary = describe_in({"net": net}, "net, (32, 4)")
    assert from_wire(json.loads(json.dumps(to_wire(summary)))) == summary
    event = decode_event(json.loads(json.dumps(encode_event(ModelShown(summary)))))
    assert event == ModelShown(summary)
    assert DescribeModel("net", "(32, 4)").timeout > 30
    bad = describe_named({"net": net}, "net", "(1, 2)")
    assert from_wire(json.loads(json.dumps(to_wire(bad)))) == bad


def test_module_names_lists_the_namespaces_modules_in_order():
    namespace = {"a": nn.ReLU(), "x": torch.ones(1), "_hidden": nn.Tanh(), "net": mlp()}
    assert module_names(namespace) == (("a", "ReLU"), ("net", "Sequential"))


def test_the_text_tree_for_a_notebook():
    lines = tree_lines(describe_in({"net": mlp()}, "net, (32, 4)"))
    assert lines[0] == "net · Sequential · 67 parameters (67 trainable, 0 frozen) · 268 B · cpu"
    assert lines[1] == "input (32, 4) float32 → output (32, 3) float32"
    assert lines[2] == "net Sequential  67  268 B  → (32, 3)"
    assert lines[3] == "  0 Linear  (8, 4) (8,)  40  160 B  → (32, 8)"
    assert lines[4] == "  1 ReLU  → (32, 8)"
    one = nn.Linear(1, 1, bias=False)
    assert tree_lines(describe(one, "one"))[0] == "one · Linear · 1 parameter (1 trainable, 0 frozen) · 4 B · cpu"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_a_cuda_model_keeps_its_cuda_random_state():
    class Noisy(nn.Module):
        def forward(self, x):
            return x + 0 * torch.rand_like(x)  # draws from the CUDA generator

    net = nn.Sequential(*mlp(), Noisy()).cuda()
    cuda_states = torch.cuda.get_rng_state_all()
    summary = describe_in({"net": net, "x": torch.ones(3, 4)}, "net, x")  # a CPU tensor goes to the model's device
    assert summary.device == "cuda:0" and summary.output_shape == "(3, 3)"
    assert all(torch.equal(a, b) for a, b in zip(torch.cuda.get_rng_state_all(), cuda_states, strict=True))
