"""Random graphs from a fixed generator: the recording must agree with torch on every one.

Each graph is built twice from the same seed: once to record (and gradient-check), once on fresh
leaves for a plain backward(). The recording's leaf gradients must equal .grad of the plain run,
every gradient a node sends must have the shape of the output it goes to, the nodes and edges must
be those of a walk of next_functions, and no tensor may change, bit for bit.
"""

from __future__ import annotations

import random
from collections import deque

import pytest
import torch

from engine.autograd import HIDDEN, gradient_check, record_backward
from tests.test_autograd_exact import assert_unchanged, snapshot

SHAPE = (3, 4)

# name -> (how many operands, function); every result has SHAPE
OPS = {
    "neg": (1, lambda a: -a),
    "exp": (1, lambda a: torch.exp(a * 0.3)),
    "tanh": (1, torch.tanh),
    "sigmoid": (1, torch.sigmoid),
    "relu": (1, torch.relu),
    "sin": (1, torch.sin),
    "cos": (1, torch.cos),
    "sqrt": (1, lambda a: torch.sqrt(a * a + 1)),
    "log": (1, lambda a: torch.log(a * a + 1)),
    "square": (1, lambda a: a ** 2),
    "cube": (1, lambda a: a.pow(3) * 0.1),
    "scalar_pow": (1, lambda a: 1.5 ** torch.tanh(a)),
    "softplus": (1, torch.nn.functional.softplus),
    "softmax": (1, lambda a: torch.softmax(a, dim=1)),
    "log_softmax": (1, lambda a: torch.log_softmax(a, dim=0)),
    "cumsum": (1, lambda a: torch.cumsum(a, dim=1) * 0.5),
    "transpose": (1, lambda a: a.t().contiguous().t()),
    "reshape": (1, lambda a: a.reshape(12).reshape(SHAPE)),
    "flip": (1, lambda a: a.flip(0)),
    "rsub": (1, lambda a: 1 - a),
    "div_scalar": (1, lambda a: a / 3),
    "clamp": (1, lambda a: a.clamp(-1, 1)),
    "mean_expand": (1, lambda a: a.mean(dim=1, keepdim=True).expand(SHAPE) + a),
    "max_dim": (1, lambda a: a.max(dim=1, keepdim=True).values * a),
    "split_cat": (1, lambda a: torch.cat(a.split([1, 3], dim=1)[::-1], dim=1)),
    "unbind_stack": (1, lambda a: torch.stack(a.unbind(0)[::-1])),
    "add": (2, lambda a, b: a + b),
    "sub": (2, lambda a, b: a - 2 * b),
    "mul": (2, lambda a, b: a * b),
    "div": (2, lambda a, b: a / (b * b + 1)),
    "maximum": (2, torch.maximum),
    "where": (2, lambda a, b: torch.where(a > b, a, b * 0.5)),
    "pow_tensors": (2, lambda a, b: (a * a + 1) ** torch.tanh(b)),
    "matmul": (3, lambda a, b, c: (a @ b.t() @ c) * 0.1),
    "mse": (2, lambda a, b: torch.nn.functional.mse_loss(a, b, reduction="none")),
}
assert len(OPS) >= 25


def build(seed: int, leaves: dict | None = None):
    """A random graph: returns (loss, namespace, leaves). With `leaves` given, builds on those."""
    rng = random.Random(seed)
    generator = torch.Generator().manual_seed(seed)
    count = rng.randint(1, 4)  # drawn either way: the same seed gives the same graph
    if leaves is None:
        dtype = torch.float64 if seed % 3 == 0 else torch.float32
        leaves = {f"p{i}": torch.randn(SHAPE, generator=generator, dtype=dtype).requires_grad_()
                  for i in range(count)}
    pool = list(leaves.values())
    namespace: dict = dict(leaves)
    for step in range(rng.randint(3, 12)):
        name = rng.choice(sorted(OPS))
        arity, op = OPS[name]
        operands = [rng.choice(pool) for _ in range(arity)]
        result = op(*operands)
        pool.append(result)
        if rng.random() < 0.5:
            namespace[f"t{step}"] = result
    loss = sum(t.sum() * (i + 1) for i, t in enumerate(pool[-3:]))
    namespace["loss"] = loss
    return loss, namespace, leaves


def walk(root):
    """An independent breadth-first walk of next_functions: node names and edges."""
    order, index, queue = [], {}, deque([root.grad_fn])
    while queue:
        fn = queue.popleft()
        if fn in index:
            continue
        index[fn] = len(order)
        order.append(fn)
        queue.extend(child for child, _ in fn.next_functions if child is not None and child not in index)
    names = ["AccumulateGrad" if hasattr(fn, "variable") else type(fn).__name__ for fn in order]
    edges = [tuple((index[c] if c is not None else None, nr) for c, nr in fn.next_functions) for fn in order]
    return names, edges


@pytest.mark.parametrize("seed", range(40))
def test_random_graph_matches_torch(seed):
    loss, namespace, leaves = build(seed)
    before = snapshot(namespace)
    rec = record_backward(loss, namespace)
    assert_unchanged(before, snapshot(namespace))

    fresh = {k: v.detach().clone().requires_grad_() for k, v in leaves.items()}
    plain_loss, _, _ = build(seed, fresh)
    plain_loss.backward()
    for name, leaf in fresh.items():
        if name not in rec.leaf_grads:  # not in the graph: plain backward leaves it alone too
            assert leaf.grad is None
            continue
        assert torch.equal(rec.leaf_grads[name], leaf.grad), (seed, name)
    assert set(rec.leaf_grads) <= set(leaves)

    graph = rec.graph
    names, edges = walk(loss)
    assert [n.name for n in graph.nodes] == names
    assert [tuple(zip(n.inputs, n.feeds, strict=True)) for n in graph.nodes] == \
        [tuple((c, nr if c is not None else 0) for c, nr in e) for e in edges]
    for step in rec.steps:
        node = graph.node(step.node)
        for i, grad in enumerate(step.grad_out):
            target = node.inputs[i]
            if grad is None or target in (None, HIDDEN):
                continue
            assert grad.shape == graph.node(target).outputs[node.feeds[i]], (seed, node.name, i)

    def forward(**values):
        return build(seed, dict(values))[0]

    check = gradient_check(forward, leaves, rec.leaf_grads, max_elements=4)
    assert check.passed, (seed, check.lines())  # none of these graphs puts a kink within eps
    assert_unchanged(before, snapshot(namespace))
