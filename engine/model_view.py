"""An `nn.Module` as a tree of its named children, without a UI: each module's class, its own
parameters' shapes, counts (trainable and frozen), bytes and device; given a sample input, each
module's output shape and dtype from forward hooks under `no_grad`; after a backward, each
module's gradient norm.

Looking never changes the model: the forward runs in eval mode (BatchNorm's running statistics
stay as they are) and each module's own train/eval flag is put back, every hook is removed, no
gradient is made or left, the buffers are put back as they were, and the random states (torch's
CPU and CUDA ones, numpy's, Python's) are restored after a forward that drew from them.

The sample input may also be data: a DataLoader (its first batch's inputs), a Dataset (its
first 8 items collated as a DataLoader would, engine.batches), or RUN_BATCH, `@batch`: the first
batch of the last Training run's data. `@batch` is not a Python expression, so no variable of the
learner's can stand for something else under that spelling.

    describe(net, "net", sample_input("(32, 4)", namespace, net))  -> ModelSummary
    describe_in(namespace, "net, (32, 4)")                          -> the same, from %model's words
    describe_in(namespace, "trained_model, @batch", run_data)       -> on the last run's first batch
"""

from __future__ import annotations

import ast
import dataclasses
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.i18n import Said, SaidError, counted, text
from engine.tensors import dtype_name, shape_text

if TYPE_CHECKING:
    from torch import Tensor, nn

MAX_NODES = 500  # modules shown; a bigger model's others are counted (`left_out`), never walked twice
MAX_ERROR_CHARS = 300  # of the forward's own error message
MAX_BUFFER_COPY_BYTES = 256 * 2**20  # buffers copied to be put back after the forward; past this, compared only
RUN_BATCH = "@batch"  # the input that stands for the last Training run's first batch (not a Python name)


class ModelViewError(SaidError, ValueError):
    """A name, model or input the Model view cannot use; what it says is why and what to do."""


@dataclass(frozen=True)
class LayerParameter:
    """One parameter a module owns itself (not its children's)."""

    name: str
    shape: str
    dtype: str
    trainable: bool
    grad_norm: float | None = None  # the 2-norm of its .grad, None when it has none


@dataclass(frozen=True)
class LayerNode:
    """One module of the tree, in depth-first order; its counts and bytes are of its whole subtree."""

    path: str  # "" for the model itself, "0", "encoder.layers.1", as named_modules() names it
    name: str  # the last part of the path (the model's own: the name it was asked by)
    class_name: str
    depth: int
    parameters: tuple[LayerParameter, ...]  # its own
    trainable: int
    frozen: int
    nbytes: int  # parameters and buffers
    device: str  # "cpu", "cuda:0", "cpu, cuda:0" for a mixed one, "" for one without tensors
    children: int
    training: bool
    shared_with: str = ""  # the path where this very module was shown first (its subtree is not shown again)
    output_shape: str = ""  # given an input: "(32, 8)"; several tensors: "(32, 8), (32,)"; "" if it did not run
    output_dtype: str = ""
    calls: int = 0  # times the forward ran it (a layer used twice: 2)
    grad_norm: float | None = None  # the 2-norm of all its subtree's gradients, None when none has one


@dataclass(frozen=True)
class ModelSummary:
    """A module as the Model view shows it: the tree, and the totals (those of model.parameters())."""

    name: str
    class_name: str
    nodes: tuple[LayerNode, ...]
    trainable: int
    frozen: int
    nbytes: int
    device: str
    modules: int  # every module in the model, shown or not
    left_out: int = 0  # modules past MAX_NODES, counted only
    input_text: str = ""  # what the input was, as typed ("(32, 4)", "x")
    input_shape: str = ""  # the tensors given to the forward: "(32, 4) float32"
    output_shape: str = ""
    output_dtype: str = ""
    has_grads: bool = False
    input_error: Said | None = None  # why the input gave no shapes (the tree is shown without them)

    @property
    def total(self) -> int:
        return self.trainable + self.frozen


@dataclass(frozen=True)
class SampleInput:
    """What the forward is called with, and what the learner typed for it."""

    args: tuple
    source: str
    made: bool  # True when made from a shape (random values from a generator of its own)


# --- the input -----------------------------------------------------------------------------------
def split_line(line: str) -> tuple[str, str]:
    """`NAME, INPUT` -> (NAME, INPUT): `net, (32, 4)`, `net, x`, `net, 32, 4` (a shape too);
    `net` alone -> (net, "")."""
    stripped = line.strip()
    try:
        body = ast.parse(stripped, mode="eval").body
    except SyntaxError:
        head, _, rest = stripped.partition(",")
        return head.strip(), rest.strip()
    if isinstance(body, ast.Tuple) and body.elts and not stripped.startswith("("):
        first, second = body.elts[0], body.elts[1] if len(body.elts) > 1 else None
        name = ast.get_source_segment(stripped, first) or ""
        rest = stripped[second.col_offset:].strip() if second is not None else ""
        return name.strip(), rest
    return stripped, ""


def find_model(namespace: dict, name: str) -> nn.Module:
    """The module `name` names in `namespace` (a name or a dotted path such as `net.encoder`)."""
    import torch

    parts = name.strip().split(".")
    if not name.strip() or not all(p.isidentifier() for p in parts):
        raise ModelViewError("model.err.bad_name", name=name.strip())
    if parts[0] not in namespace:
        raise ModelViewError("model.err.no_name", name=parts[0])
    value = namespace[parts[0]]
    for i, part in enumerate(parts[1:], 1):
        child = value._modules.get(part) if isinstance(value, torch.nn.Module) else None
        if child is None:
            raise ModelViewError("model.err.no_child", name=".".join(parts[:i]), child=part)
        value = child
    if not isinstance(value, torch.nn.Module):
        raise ModelViewError("model.err.not_module", name=name.strip(), kind=type(value).__name__)
    return value


def _home(model: nn.Module) -> tuple[Any, Any]:
    """The device and floating dtype a made input gets: those of the model's first tensor."""
    import torch

    device, dtype = torch.device("cpu"), torch.get_default_dtype()
    for tensor in _tensors(model):
        device = tensor.device
        break
    for tensor in _tensors(model):
        if tensor.is_floating_point():
            dtype = tensor.dtype
            break
    return device, dtype


def _tensors(model: nn.Module) -> Iterator[Tensor]:
    yield from model.parameters()
    yield from model.buffers()


def _first_layer(model: nn.Module):
    """The first module with parameters of its own, in registration order (what a shape feeds)."""
    for module in model.modules():
        if module._parameters:
            return module
    return None


def sample_input(source: str, namespace: dict, model: nn.Module, run_data: Any = None) -> SampleInput | None:
    """The forward's arguments from what the learner typed: a tensor, a tuple of tensors, a
    DataLoader or a Dataset (its first batch's inputs, engine.batches), RUN_BATCH (the first batch
    of `run_data`, the last Training run's data: a DataLoader or its inputs tensor; None when there
    has been no run), or a shape (`(32, 4)`, `32, 4`, `torch.Size([32, 4])`, `8`). A shape becomes
    random normal values in the model's dtype on its device (whole numbers below num_embeddings
    when the first layer is an Embedding), drawn from a generator of its own: the learner's random
    state is not used. None for no input."""
    import torch

    from engine.batches import is_data

    source = source.strip()
    if not source:
        return None
    if source == RUN_BATCH:
        if run_data is None:
            raise ModelViewError("model.err.no_run", input=RUN_BATCH)
        value = run_data
    else:
        try:
            value = eval(compile(source, "<model input>", "eval"), namespace)  # noqa: S307 - the learner's own
        except Exception as exc:  # noqa: BLE001 - said to the learner in one sentence
            raise ModelViewError("model.err.input_eval", input=source, error=_error_text(exc)) from None
    device, dtype = _home(model)
    if is_data(value):
        return SampleInput(tuple(_moved(t, device) for t in _data_inputs(value, source)), source, False)
    if isinstance(value, torch.Tensor):
        return SampleInput((_moved(value, device),), source, False)
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value,)
    if isinstance(value, (tuple, list)) and value and all(isinstance(v, torch.Tensor) for v in value):
        return SampleInput(tuple(_moved(v, device) for v in value), source, False)
    if isinstance(value, (tuple, list, torch.Size)) and all(isinstance(v, int) and not isinstance(v, bool)
                                                            for v in value):
        shape = tuple(value)
        if any(d < 0 for d in shape) or math.prod(shape) > 2**28:
            raise ModelViewError("model.err.input_shape", input=source)
        generator = torch.Generator().manual_seed(0)
        first = _first_layer(model)
        if isinstance(first, torch.nn.Embedding):
            made = torch.randint(0, first.num_embeddings, shape, generator=generator)
        else:
            made = torch.randn(shape, generator=generator, dtype=dtype if dtype.is_floating_point else None)
        return SampleInput((made.to(device),), source, True)
    raise ModelViewError("model.err.input_kind", input=source, kind=type(value).__name__)


def _data_inputs(data: Any, source: str) -> tuple[Tensor, ...]:
    """The inputs of a DataLoader's or Dataset's first batch; `source` names the data in errors
    (RUN_BATCH's are said of the last run's data)."""
    from engine.batches import EmptyData, batch_inputs, first_batch

    run = source == RUN_BATCH
    try:
        batch = first_batch(data)
    except EmptyData:
        raise ModelViewError("model.err.run_empty" if run else "model.err.empty", data=source) from None
    except Exception as exc:  # noqa: BLE001 - the learner's Dataset's own error, in one sentence
        raise ModelViewError("model.err.run_batch_failed" if run else "model.err.batch_failed", data=source,
                             error=_error_text(exc)) from None
    inputs = batch_inputs(batch)
    if inputs is None:
        raise ModelViewError("model.err.run_batch_kind" if run else "model.err.batch_kind", data=source,
                             kind=type(batch).__name__)
    return inputs


def _moved(tensor: Tensor, device) -> Tensor:
    """The learner's tensor on the model's device: a copy if it is elsewhere (theirs stays put)."""
    return tensor if tensor.device == device else tensor.to(device)


def _error_text(exc: BaseException) -> str:
    first = next((line for line in str(exc).splitlines() if line.strip()), "")
    words = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    return words if len(words) <= MAX_ERROR_CHARS else words[:MAX_ERROR_CHARS - 1] + "…"


# --- the tree ------------------------------------------------------------------------------------
def _walk(model: nn.Module, name: str, limit: int) -> tuple[list[tuple[str, str, int, nn.Module, str]], int]:
    """(path, name, depth, module, shared_with) for the first `limit` modules depth first, each
    module's subtree shown once (a shared one is named again but not walked again); and how many
    modules the model has in all."""
    shown: list[tuple[str, str, int, nn.Module, str]] = []
    first_path: dict[int, str] = {}
    stack: list[tuple[str, str, int, nn.Module]] = [("", name, 0, model)]
    total = 0
    while stack:  # (a loop, not recursion: a model nested thousands deep is walked all the same)
        path, label, depth, module = stack.pop()
        seen = first_path.get(id(module))
        if seen is None:
            first_path[id(module)] = path
            total += 1
        if len(shown) < limit:
            shown.append((path, label, depth, module, "" if seen is None else seen or name))
        if seen is None:
            children = [(f"{path}.{key}" if path else key, key, depth + 1, child)
                        for key, child in module._modules.items() if child is not None]
            stack.extend(reversed(children))
    return shown, total


def _devices(tensors: list[Tensor]) -> str:
    return ", ".join(dict.fromkeys(str(t.device) for t in tensors))


def _grad_norms(model: nn.Module) -> dict[int, float]:
    """Each parameter's gradient 2-norm (in float64), by the parameter's id."""
    import torch

    norms = {}
    for p in model.parameters():
        grad = p.grad
        if grad is None:
            continue
        if grad.is_sparse:
            grad = grad.coalesce().values()
        norms[id(p)] = float(torch.linalg.vector_norm(grad.detach().to(torch.float64 if not grad.is_complex()
                                                                        else torch.complex128)))
    return norms


def _output_of(value) -> tuple[str, str]:
    """A forward's result as (shape, dtype): a tensor's, or those of the tensors a tuple, list or
    dict holds (the first few); other results by their type."""
    import torch

    if isinstance(value, torch.Tensor):
        return shape_text(value.shape), dtype_name(value.dtype)
    items = list(value.values()) if isinstance(value, dict) else list(value) if isinstance(value, (tuple, list)) else []
    tensors = [v for v in items if isinstance(v, torch.Tensor)]
    if not tensors:
        return type(value).__name__, ""
    shapes = ", ".join(shape_text(t.shape) for t in tensors[:4]) + (", …" if len(tensors) > 4 else "")
    return shapes, ", ".join(dict.fromkeys(dtype_name(t.dtype) for t in tensors))


@contextmanager
def _untouched(model: nn.Module) -> Iterator[None]:
    """Whatever a forward could change, put back afterwards: each module's train/eval flag, the
    buffers (running statistics), every random state."""
    import torch

    from engine.gradcheck import random_states, set_random_states

    modes = [(m, m.training) for m in model.modules()]
    buffers = [b for b in model.buffers()]
    copy = sum(b.numel() * b.element_size() for b in buffers) <= MAX_BUFFER_COPY_BYTES
    saved = [(b, b.detach().clone() if copy else None, b._version) for b in buffers]
    state = random_states()
    try:
        yield
    finally:
        for m, training in modes:
            m.training = training
        with torch.no_grad():
            for b, before, version in saved:
                if before is not None and b._version != version:
                    b.copy_(before)
        set_random_states(state)


def _run_forward(model: nn.Module, name: str, sample: SampleInput,
                 modules: list[nn.Module], paths: dict[int, str]) -> tuple[dict[int, tuple[str, str, int]], Any]:
    """Call the model on the sample under no_grad with hooks on `modules`; each one's (shape,
    dtype, calls) by id, and the model's output. Hooks are removed whatever happens."""
    import torch

    outputs: dict[int, tuple[str, str, int]] = {}
    entered: list[nn.Module] = []
    lazy = [paths.get(id(m), "") for m in model.modules()
            if any(torch.nn.parameter.is_lazy(p) for p in m._parameters.values() if p is not None)]
    if lazy:
        raise ModelViewError("model.err.lazy", name=name, layer=lazy[0] or name)

    def before(module, _args) -> None:
        entered.append(module)

    def after(module, _args, output) -> None:
        if entered and entered[-1] is module:
            entered.pop()
        shape, dtype, calls = outputs.get(id(module), ("", "", 0))
        if not calls:
            shape, dtype = _output_of(output)
        outputs[id(module)] = (shape, dtype, calls + 1)

    handles = []
    try:
        for module in modules:
            handles.append(module.register_forward_pre_hook(before))
            handles.append(module.register_forward_hook(after))
        with _untouched(model), torch.no_grad():
            model.eval()  # BatchNorm reads its running statistics instead of updating them; Dropout is off
            try:
                result = model(*sample.args)
            except Exception as exc:  # noqa: BLE001 - the forward's error, said in one sentence
                at = entered[-1] if entered else model
                where = paths.get(id(at), "")
                raise ModelViewError("model.err.forward", name=name, input=_input_shapes(sample) or sample.source,
                                     layer=f"{where} ({type(at).__name__})" if where else type(at).__name__,
                                     error=_error_text(exc)) from None
    finally:
        for handle in handles:
            handle.remove()
    return outputs, result


def _input_shapes(sample: SampleInput) -> str:
    import torch

    return ", ".join(f"{shape_text(a.shape)} {dtype_name(a.dtype)}" for a in sample.args if isinstance(a, torch.Tensor))


def describe(model: nn.Module, name: str, sample: SampleInput | None = None, *,
             max_nodes: int = MAX_NODES) -> ModelSummary:
    """The summary of `model` (called `name`), with output shapes when `sample` is given; the
    model is left exactly as it was (see this module's docstring)."""
    walked, total_modules = _walk(model, name, max_nodes)
    paths = {id(module): path for path, _n, _d, module, shared in reversed(walked) if not shared}
    outputs: dict[int, tuple[str, str, int]] = {}
    result = None
    if sample is not None:
        unique = [module for _p, _n, _d, module, shared in walked if not shared]
        outputs, result = _run_forward(model, name, sample, unique, paths)
    norms = _grad_norms(model)
    nodes = []
    for path, label, depth, module, shared in walked:
        params = list(module.parameters())  # (torch's own count: a parameter shared in the subtree once)
        tensors = params + list(module.buffers())
        subtree_norms = [norms[id(p)] for p in params if id(p) in norms]
        own = tuple(LayerParameter(key, shape_text(p.shape), dtype_name(p.dtype), bool(p.requires_grad), norms.get(id(p)))
                    for key, p in module._parameters.items() if p is not None)
        shape, dtype, calls = outputs.get(id(module), ("", "", 0))
        nodes.append(LayerNode(
            path, label, type(module).__name__, depth, own,
            trainable=sum(p.numel() for p in params if p.requires_grad),
            frozen=sum(p.numel() for p in params if not p.requires_grad),
            nbytes=sum(t.numel() * t.element_size() for t in tensors), device=_devices(tensors),
            children=sum(1 for c in module._modules.values() if c is not None), training=module.training,
            shared_with=shared, output_shape=shape, output_dtype=dtype, calls=calls,
            grad_norm=math.sqrt(sum(n * n for n in subtree_norms)) if subtree_norms else None))
    root = nodes[0]
    out_shape, out_dtype = _output_of(result) if sample is not None else ("", "")
    shown_modules = sum(1 for *_x, shared in walked if not shared)
    return ModelSummary(name, type(model).__name__, tuple(nodes), root.trainable, root.frozen, root.nbytes,
                        root.device, total_modules, total_modules - shown_modules,
                        sample.source if sample else "", _input_shapes(sample) if sample else "",
                        out_shape, out_dtype, bool(norms))


def describe_in(namespace: dict, line: str, run_data: Any = None) -> ModelSummary:
    """%model's `NAME[, INPUT]` over the learner's namespace (`run_data`: what RUN_BATCH reads)."""
    name, source = split_line(line)
    model = find_model(namespace, name)
    return describe(model, name, sample_input(source, namespace, model, run_data))


def describe_named(namespace: dict, name: str, source: str = "", run_data: Any = None) -> ModelSummary:
    """The Model view's question: the module `name`, with the sample input `source` ("" for none;
    RUN_BATCH reads `run_data`). An input that cannot be used still gives the tree, without
    shapes, and says why (`input_error`): the learner sees the layers while fixing the input."""
    model = find_model(namespace, name)
    try:
        return describe(model, name.strip(), sample_input(source, namespace, model, run_data))
    except ModelViewError as exc:
        return dataclasses.replace(describe(model, name.strip()), input_text=source.strip(), input_error=exc.said)


def module_names(namespace: dict) -> tuple[tuple[str, str], ...]:
    """(name, class) of each nn.Module in the namespace, in the order defined, for the picker."""
    import torch

    return tuple((name, type(value).__name__) for name, value in list(namespace.items())
                 if not name.startswith("_") and isinstance(value, torch.nn.Module))[:200]


# --- words ---------------------------------------------------------------------------------------
def count_text(n: int) -> str:
    """12,345 as a learner reads a parameter count: 12.3K, 4.5M, 1.2B past ten thousand."""
    for scale, unit in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if n >= 10 * scale:
            return f"{n / scale:.1f}{unit}"
    return f"{n:,}"


def size_text(n: int) -> str:
    """Bytes in the unit that reads best: 268 B, 1.5 KiB, 3.2 MiB."""
    for scale, unit in ((2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


def node_line(node: LayerNode, summary: ModelSummary, lang: str = "en") -> str:
    """One module as the tree's line says it: name, class, own parameter shapes, count, bytes,
    output, gradient norm (the device only where it is not the model's)."""
    parts = [f"{node.name} {node.class_name}"]
    if node.shared_with:
        parts.append(text("model.shared", lang, path=node.shared_with or summary.name))
    own = [p.shape for p in node.parameters]
    if own:
        parts.append(" ".join(own))
    if node.trainable or node.frozen:
        count = count_text(node.trainable + node.frozen)
        parts.append(text("model.count_frozen", lang, n=count, frozen=count_text(node.frozen)) if node.frozen
                     else count)
        parts.append(size_text(node.nbytes))
    if node.device and node.device != summary.device:
        parts.append(node.device)
    if summary.input_text and summary.input_error is None:
        if node.calls:
            out = f"→ {node.output_shape}" + (f" ×{node.calls}" if node.calls > 1 else "")
            parts.append(out)
        elif not node.shared_with:
            parts.append(text("model.not_run", lang))
    if node.grad_norm is not None:
        parts.append(text("model.grad_norm", lang, norm=f"{node.grad_norm:.3g}"))
    return "  ".join(parts)


def totals_line(summary: ModelSummary, lang: str = "en") -> str:
    """The whole model: its parameters (trainable, frozen), bytes, device, input and output."""
    line = text(counted("model.totals", summary.total), lang, name=summary.name, cls=summary.class_name,
                n=f"{summary.total:,}",
                trainable=f"{summary.trainable:,}", frozen=f"{summary.frozen:,}", size=size_text(summary.nbytes),
                device=summary.device or "-")
    if summary.input_error is not None:
        line += "\n" + summary.input_error.words(lang)
    elif summary.input_text:
        line += "\n" + text("model.io", lang, input=summary.input_shape, output=summary.output_shape,
                            dtype=summary.output_dtype)
    if summary.left_out:
        line += "\n" + text(counted("model.left_out", summary.left_out), lang, shown=len(summary.nodes),
                            n=f"{summary.left_out:,}")
    return line


def tree_lines(summary: ModelSummary, lang: str = "en") -> list[str]:
    """The summary as text, for %model in a notebook or IPython (no app to show the view)."""
    lines = totals_line(summary, lang).splitlines()
    for node in summary.nodes:
        lines.append("  " * node.depth + node_line(node, summary, lang))
    return lines

