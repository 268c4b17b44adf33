"""The Model view's input from data: a DataLoader's first batch, a Dataset's first items, and
`@batch` (the last Training run's data), with torch as the oracle: the layer shapes are those of
the batch passed directly, and reading it moves no random state and starts no worker process."""

from __future__ import annotations

import multiprocessing
import random

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, IterableDataset, TensorDataset, default_collate

from engine.batches import DATASET_ITEMS, batch_inputs, first_batch
from engine.model_view import RUN_BATCH, describe, describe_in, describe_named, sample_input
from tests.test_engine_model_view import mlp, refusal_words


def convnet() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 4 * 4, 10))


def shapes(summary) -> list[tuple[str, str, str]]:
    return [(node.path, node.output_shape, node.output_dtype) for node in summary.nodes]


def pairs(n: int = 50, features: int = 4) -> TensorDataset:
    generator = torch.Generator().manual_seed(1)
    return TensorDataset(torch.randn(n, features, generator=generator), torch.randint(0, 3, (n,), generator=generator))


class Augmented(Dataset):
    """Images whose every read draws noise from torch's, numpy's and Python's random states, as an
    augmentation would."""

    def __len__(self) -> int:
        return 30

    def __getitem__(self, i):
        noise = torch.rand(1, 8, 8) + float(np.random.rand()) + random.random()
        return noise, i % 10


def test_a_dataloader_gives_the_layer_shapes_of_its_first_batch_passed_directly():
    net = convnet()
    loader = DataLoader(Augmented(), batch_size=12, shuffle=True)
    torch.manual_seed(5)
    from_loader = describe_in({"net": net, "loader": loader}, "net, loader")
    torch.manual_seed(5)
    x, _y = next(iter(loader))  # the oracle: torch's own first batch
    direct = describe(net, "net", sample_input("x", {"x": x}, net))
    assert shapes(from_loader) == shapes(direct)
    assert from_loader.input_shape == direct.input_shape == "(12, 1, 8, 8) float32"
    assert from_loader.output_shape == "(12, 10)" and from_loader.input_text == "loader"
    # a loader whose batches are tensors (no targets) gives the batch itself
    plain = DataLoader(torch.randn(20, 4), batch_size=7)
    assert describe_in({"net": mlp(), "plain": plain}, "net, plain").input_shape == "(7, 4) float32"


def test_reading_a_shuffling_loaders_first_batch_moves_no_random_state():
    net = mlp()
    for loader in (DataLoader(pairs(), batch_size=8, shuffle=True),  # its order from torch's random state
                   DataLoader(pairs(), batch_size=8, shuffle=True, generator=torch.Generator().manual_seed(3)),
                   DataLoader(Augmented(), batch_size=4, shuffle=True)):
        model = convnet() if isinstance(loader.dataset, Augmented) else net
        own = loader.generator.get_state() if loader.generator is not None else None
        torch.manual_seed(7)
        np.random.seed(7)
        random.seed(7)
        states = torch.get_rng_state(), np.random.get_state()[1].copy(), random.getstate()
        summary = describe(model, "m", sample_input("loader", {"loader": loader}, model))
        assert summary.input_error is None and summary.output_shape
        assert torch.equal(torch.get_rng_state(), states[0])
        assert np.array_equal(np.random.get_state()[1], states[1]) and random.getstate() == states[2]
        if own is not None:
            assert torch.equal(loader.generator.get_state(), own)
        # so the learner's next epoch is the one it would have been without the look
        looked = next(iter(loader))[1]
        torch.manual_seed(7)
        np.random.seed(7)
        random.seed(7)
        if own is not None:
            loader.generator.set_state(own)
        assert torch.equal(next(iter(loader))[1], looked)


def test_a_loader_with_workers_is_read_here_and_leaves_no_process():
    net = mlp()
    loader = DataLoader(pairs(), batch_size=10, shuffle=True, num_workers=2, persistent_workers=True)
    before = multiprocessing.active_children()
    summary = describe_in({"net": net, "loader": loader}, "net, loader")
    assert summary.input_shape == "(10, 4) float32"
    assert multiprocessing.active_children() == before
    assert loader._iterator is None  # the learner's persistent iterator was never made


def test_a_dataset_gives_its_first_items_collated_as_a_dataloader_would():
    data = pairs(20)
    batch = first_batch(data)
    expected = default_collate([data[i] for i in range(DATASET_ITEMS)])
    assert torch.equal(batch[0], expected[0]) and torch.equal(batch[1], expected[1])
    net = mlp()
    summary = describe_in({"net": net, "data": data}, "net, data")
    assert summary.input_shape == f"({DATASET_ITEMS}, 4) float32" and summary.output_shape == f"({DATASET_ITEMS}, 3)"
    assert describe_in({"net": net, "few": pairs(3)}, "net, few").input_shape == "(3, 4) float32"

    class Stream(IterableDataset):
        def __iter__(self):
            return iter(torch.ones(5, 4))

    assert describe_in({"net": net, "stream": Stream()}, "net, stream").input_shape == "(5, 4) float32"
    assert describe_in({"net": net, "s": DataLoader(Stream(), batch_size=2)}, "net, s").input_shape == "(2, 4) float32"


def test_batch_inputs_takes_the_inputs_of_a_batch():
    x, y = torch.ones(2, 3), torch.zeros(2)
    assert batch_inputs(x)[0] is x
    assert batch_inputs((x, y))[0] is x and len(batch_inputs([x, y])) == 1
    a, b = torch.ones(2, 3), torch.ones(2, 2)
    assert batch_inputs(((a, b), y)) == (a, b)
    assert batch_inputs({"x": x}) is None and batch_inputs(("a", y)) is None and batch_inputs(()) is None


def test_a_model_of_two_inputs_takes_them_from_the_batch():
    class Pair(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(3, 2)

        def forward(self, a, b):
            return self.fc(a) + b

    class Two(Dataset):
        def __len__(self) -> int:
            return 10

        def __getitem__(self, i):
            return (torch.ones(3), torch.zeros(2)), i

    summary = describe_in({"pair": Pair(), "two": DataLoader(Two(), batch_size=4)}, "pair, two")
    assert summary.input_shape == "(4, 3) float32, (4, 2) float32" and summary.output_shape == "(4, 2)"


def test_at_batch_reads_the_last_runs_data_and_no_variable_stands_for_it():
    net = mlp()
    loader = DataLoader(pairs(), batch_size=16, shuffle=True)
    namespace = {"net": net, "batch": torch.ones(3, 4)}  # a learner's own `batch`: still theirs
    assert describe_in(namespace, "net, @batch", loader).input_shape == "(16, 4) float32"
    assert describe_in(namespace, "net, batch", loader).input_shape == "(3, 4) float32"
    run_inputs = torch.randn(32, 4)  # a built-in task's run keeps its first batch's inputs
    summary = describe_named(namespace, "net", RUN_BATCH, run_inputs)
    assert summary.input_text == "@batch" and summary.input_shape == "(32, 4) float32"
    assert summary.output_shape == "(32, 3)"


class Broken(Dataset):
    def __len__(self) -> int:
        return 4

    def __getitem__(self, i):
        raise KeyError(f"no image {i}")


class Dicts(Dataset):
    def __len__(self) -> int:
        return 4

    def __getitem__(self, i):
        return {"x": torch.ones(4), "y": i}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_bad_data_is_one_sentence_in_the_readers_language(lang):
    net = mlp()
    namespace = {"net": net, "empty": DataLoader(TensorDataset(torch.zeros(0, 4)), batch_size=4),
                 "broken": DataLoader(Broken(), batch_size=2), "dicts": DataLoader(Dicts(), batch_size=2),
                 "wide": DataLoader(pairs(features=5), batch_size=6)}
    cases = {"net, @batch": "model.err.no_run", "net, empty": "model.err.empty",
             "net, broken": "model.err.batch_failed", "net, dicts": "model.err.batch_kind",
             "net, wide": "model.err.forward"}
    for line, code in cases.items():
        words = refusal_words(namespace, line, code, lang)
        if code != "model.err.forward":  # (which says the batch's shapes, below)
            assert ("@batch" if "@" in line else line.split(", ")[1]) in words, words
    words = {code: describe_named(namespace, "net", line.split(", ")[1]).input_error.words(lang)
             for line, code in cases.items()}
    assert "no image 0" in words["model.err.batch_failed"] and "dict" in words["model.err.batch_kind"]
    assert "(6, 5) float32" in words["model.err.forward"] and "0 (Linear)" in words["model.err.forward"]
    # the last run's data is named in words, not as @batch
    for run_data, code in ((namespace["empty"], "model.err.run_empty"), (namespace["broken"], "model.err.run_batch_failed"),
                           (namespace["dicts"], "model.err.run_batch_kind")):
        error = describe_named(namespace, "net", RUN_BATCH, run_data).input_error
        assert error.code == code and "@batch" not in error.words(lang)
        assert ("last Training run's data" if lang == "en" else "上一次训练") in error.words(lang)


# --- the kernel's side, in this process: the Training run keeps its data, @batch reads it ---------
def kernel_handlers(namespace: dict):
    """The kernel's request handlers over `namespace`, their events collected."""
    from types import SimpleNamespace

    from engine.kernel import requests
    from engine.kernel.bridge import Bridge

    bridge, events = Bridge(), []
    bridge.emit = lambda event, comm=None: events.append(event)  # type: ignore[method-assign]
    requests.register(bridge, SimpleNamespace(user_ns=namespace))
    return bridge, events


def finished(bridge, events) -> None:
    from engine.protocol import TrainFinished

    bridge.training._thread.join(120)
    done = [e for e in events if isinstance(e, TrainFinished)]
    assert done and done[-1].error is None, done


def test_before_any_run_at_batch_says_so_and_the_tree_stays():
    from engine.protocol import DescribeModel

    bridge, _events = kernel_handlers({"net": mlp()})
    summary = bridge.handlers[DescribeModel](DescribeModel("net", "@batch"))
    assert summary.input_error.code == "model.err.no_run" and len(summary.nodes) == 4


def test_after_a_built_in_run_at_batch_is_its_first_batch():
    from engine.protocol import DescribeModel, TrainStart
    from engine.training import make_config, make_data

    namespace: dict = {}
    bridge, events = kernel_handlers(namespace)
    config = {"task": "regression", "features": 3, "samples": 200, "batch_size": 24, "epochs": 2, "device": "cpu"}
    bridge.handlers[TrainStart](TrainStart(config))
    finished(bridge, events)
    state = torch.get_rng_state()
    summary = bridge.handlers[DescribeModel](DescribeModel("trained_model", "@batch"))
    assert summary.input_error is None and summary.input_text == "@batch"
    oracle = make_data(make_config(**config)).x[:24]  # the run's data, made again from its seed
    direct = describe(namespace["trained_model"], "trained_model", sample_input("x", {"x": oracle}, namespace["trained_model"]))
    assert summary.input_shape == "(24, 3) float32" and shapes(summary) == shapes(direct)
    assert torch.equal(bridge.training.run_data, oracle)  # the first rows, copied: the run's data is not kept
    assert bridge.training.run_data.untyped_storage().nbytes() == 24 * 3 * 4
    assert torch.equal(torch.get_rng_state(), state)


def test_after_a_run_of_the_learners_loader_at_batch_is_its_first_batch_and_moves_no_random_state():
    from engine.kernel.training_run import own_run
    from engine.protocol import DescribeModel
    from engine.training import make_config

    net = mlp()
    loader = DataLoader(pairs(), batch_size=10, shuffle=True, num_workers=2)
    namespace = {"net": net, "loader": loader}
    bridge, events = kernel_handlers(namespace)
    cfg, given, data = own_run(make_config(task="own", epochs=1, device="cpu"), net, loader, nn.CrossEntropyLoss(),
                               torch.optim.SGD(net.parameters(), lr=0.1))
    bridge.training.start_given(cfg, given, data)
    finished(bridge, events)
    assert bridge.training.run_data is loader  # the learner's own, referred to, not copied
    torch.manual_seed(11)
    state, children = torch.get_rng_state(), multiprocessing.active_children()
    summary = bridge.handlers[DescribeModel](DescribeModel("trained_model", "@batch"))
    assert summary.input_shape == "(10, 4) float32" and summary.output_shape == "(10, 3)"
    assert torch.equal(torch.get_rng_state(), state) and multiprocessing.active_children() == children
    assert shapes(summary) == shapes(describe_in(namespace, "net, loader"))


def test_percent_model_reads_the_runs_batch_too(monkeypatch, capsys):
    from types import SimpleNamespace

    from engine.kernel import magics
    from engine.kernel.bridge import bridge as kernel_bridge

    net = mlp()
    namespace = {"trained_model": net}
    monkeypatch.setattr(magics, "get_ipython", lambda: SimpleNamespace(user_ns=namespace))
    monkeypatch.setattr(kernel_bridge, "training", SimpleNamespace(run_data=torch.ones(5, 4)))
    magics.model_magic("trained_model, @batch")  # (no app sent the cell: the tree is printed)
    printed = capsys.readouterr().out
    assert "input (5, 4) float32 → output (5, 3) float32" in printed and "→ (5, 8)" in printed
    monkeypatch.setattr(kernel_bridge, "training", None)  # a kernel that has not trained
    from IPython.core.error import UsageError

    with pytest.raises(UsageError, match="no Training run's data for @batch"):
        magics.model_magic("trained_model, @batch")


def test_percent_reset_lets_the_runs_data_go(monkeypatch):
    from types import SimpleNamespace

    from engine.kernel import magics
    from engine.kernel.bridge import bridge as kernel_bridge
    from engine.kernel.training_run import TrainingRun

    namespace: dict = {"loader": DataLoader(pairs(), batch_size=4)}
    training = TrainingRun(kernel_bridge, lambda: namespace)
    training.run_data = namespace["loader"]
    monkeypatch.setattr(kernel_bridge, "training", training)
    monkeypatch.setattr(magics, "get_ipython", lambda: SimpleNamespace(user_ns=namespace,
                                                                      reset=lambda new_session: namespace.clear()))
    monkeypatch.setattr(magics, "fill_namespace", lambda ip: None)
    magics.reset_magic()
    assert training.run_data is None
