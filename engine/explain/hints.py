"""One hint for an error a tensor operation raised: the exception's type and torch's own message
(as torch 2.13 words it) say what went wrong, the operands (when the line's are known) say which
tensor it was. The hint is a `Said` under `explain.hint.`; its values are the specifics (sizes,
dimensions, the operands as typed) and code to try. Anything else (a NameError, a KeyError, a
message no pattern knows) has no hint: None."""

from __future__ import annotations

import re
from collections.abc import Callable

from engine.explain.model import Operand
from engine.i18n import Said
from engine.tensors import shape_text

# torch's names for dtypes in its messages, as the learner writes them
_DTYPES = {
    "long int": "torch.int64", "long": "torch.int64", "int": "torch.int32", "short": "torch.int16",
    "float": "torch.float32", "double": "torch.float64", "half": "torch.float16", "bfloat16": "torch.bfloat16",
    "bool": "torch.bool", "byte": "torch.uint8", "char": "torch.int8", "unsigned char": "torch.uint8",
    "signed char": "torch.int8",
}
_FLOATING = {"torch.float32", "torch.float64", "torch.float16", "torch.bfloat16"}


def _dtype(word: str) -> str:
    """torch.int64 for `Long`, `long int`, `torch.LongTensor`, `torch.int64`."""
    w = word.strip().lower()
    if w.startswith("torch."):
        w = w[len("torch."):]
        if w.endswith("tensor"):
            w = w[: -len("tensor")]
        else:
            return "torch." + w
    return _DTYPES.get(w, word.strip())


def _tensors(operands: tuple[Operand, ...]) -> list[Operand]:
    return [o for o in operands if o.is_tensor and o.looked_up]


def _shape(shape: tuple[int, ...] | None) -> str:
    if shape is None:
        return "?"
    return shape_text(shape)


def _sizes(text: str) -> tuple[int, ...]:
    return tuple(int(s) for s in re.findall(r"\d+", text))


def _dims(o: Operand) -> tuple[int, ...]:
    return o.shape or ()


def _with(operands: tuple[Operand, ...], test: Callable[[Operand], bool], skip: Operand | None = None) -> Operand | None:
    return next((o for o in _tensors(operands) if o is not skip and test(o)), None)


def _layer(operands: tuple[Operand, ...], name: str) -> Operand | None:
    return next((o for o in operands if o.kind.startswith(name + "(")), None)


def _named(o: Operand | None, fallback: str) -> str | Said:
    """The operand as typed, or words for it (`fallback` is a catalog key) when the line's
    operands do not tell."""
    return o.expression if o is not None else Said(fallback)


def _code(o: Operand | None, fallback: str = "x") -> str:
    return o.expression if o is not None else fallback


def _layer_name(layer: Operand) -> str:
    """A layer as the model names it: `fc2`, `encoder.0`; a Sequential's numbered layer as `[2]`."""
    name = layer.name_in_model or layer.expression
    return f"[{name}]" if name.isdigit() else name


# ---- matrix products ---------------------------------------------------------------------------

def _matmul(r: int, c: int, r2: int, c2: int, operands: tuple[Operand, ...]) -> Said:
    """The first is r x c, the second r2 x c2 (as the message says them), c != r2."""
    layer = _layer(operands, "Linear")
    if layer is not None:
        found = re.search(r"in_features=(\d+)", layer.kind)
        in_features = int(found.group(1)) if found else r2
        found = re.search(r"out_features=(\d+)", layer.kind)
        out = found.group(1) if found else "…"
        x = _with(operands, lambda o: _dims(o)[-1:] == (c,))
        key = "explain.hint.linear" if layer.name_in_model else "explain.hint.linear_layer"
        return Said(key, {
            "layer": _layer_name(layer), "in_features": in_features, "n": c, "fix": f"nn.Linear({c}, {out})",
            "input": _named(x, "explain.hint.the_input"),
            "shape": _shape(x.shape) if x is not None else f"(…, {c})"})
    first = _with(operands, lambda o: _dims(o)[-1:] == (c,) and (len(_dims(o)) != 2 or _dims(o)[0] == r))
    second = _with(operands, lambda o: _dims(o)[-2:] == (r2, c2) or _dims(o) == (r2,), skip=first)
    if first is None or second is None:
        first = second = None
    batched = any(o is not None and o.shape is not None and len(o.shape) > 2 for o in (first, second))
    return Said("explain.hint.matmul", {
        "first": _named(first, "explain.hint.the_first_matrix"), "second": _named(second, "explain.hint.the_second_matrix"),
        "shape1": _shape(first.shape) if first is not None else f"{r}x{c}",
        "shape2": _shape(second.shape) if second is not None else f"{r2}x{c2}",
        "cols": c, "rows": r2,
        "fix": f"{_code(second, 'B')}.{'mT' if batched else 'T'}"})


def _mm(m: re.Match, operands: tuple[Operand, ...]) -> Said:
    r, c, r2, c2 = (int(g) for g in m.groups())
    return _matmul(r, c, r2, c2, operands)


def _mv(m: re.Match, operands: tuple[Operand, ...]) -> Said:
    """mv / matrix @ vector: `size mismatch, got input (5), mat (5x3), vec (4)`."""
    r, c, n = int(m.group(1)), int(m.group(2)), int(m.group(3))
    return _matmul(r, c, n, 1, operands) if _layer(operands, "Linear") else _vector(
        _with(operands, lambda o: o.shape is not None and o.shape[-2:] == (r, c)),
        _with(operands, lambda o: o.shape == (n,)), f"{r}x{c}", c, n)


def _vector(first: Operand | None, second: Operand | None, shape1: str, cols: int, n: int) -> Said:
    if first is None or second is None:
        first = second = None
    return Said("explain.hint.matmul_vector", {
        "first": _named(first, "explain.hint.the_first_matrix"), "second": _named(second, "explain.hint.the_second_matrix"),
        "shape1": _shape(first.shape) if first is not None else shape1, "cols": cols, "n": n})


def _dot(m: re.Match, operands: tuple[Operand, ...]) -> Said:
    """1-D @ 1-D: `inconsistent tensor size, expected tensor [3] and src [4] ...`."""
    a, b = int(m.group(1)), int(m.group(2))
    first = _with(operands, lambda o: o.shape == (a,))
    second = _with(operands, lambda o: o.shape == (b,), skip=first)
    if first is None or second is None:
        first = second = None
    return Said("explain.hint.dot", {"first": _named(first, "explain.hint.the_first_vector"),
                                     "second": _named(second, "explain.hint.the_second_vector"), "n1": a, "n2": b})


def _bmm(m: re.Match, operands: tuple[Operand, ...]) -> Said:
    """`Expected size for first two dimensions of batch2 tensor to be: [B, K] but got: [B2, K2].`"""
    batch, cols, batch2, rows = (int(g) for g in m.groups())
    first = _with(operands, lambda o: o.shape is not None and len(o.shape) == 3 and o.shape[0] == batch
                  and o.shape[2] == cols)
    second = _with(operands, lambda o: o.shape is not None and len(o.shape) == 3 and o.shape[:2] == (batch2, rows),
                   skip=first)
    if batch != batch2:
        if first is None or second is None:
            first = second = None
        return Said("explain.hint.bmm_batch", {
            "first": _named(first, "explain.hint.the_first_matrix"), "second": _named(second, "explain.hint.the_second_matrix"),
            "b1": batch, "b2": batch2})
    r = first.shape[1] if first is not None and first.shape else 0
    c2 = second.shape[2] if second is not None and second.shape else 0
    said = _matmul(r, cols, rows, c2, operands)
    if first is None or second is None:  # the message has no full shapes: say the batches' own
        said = Said(said.code, {**said.values, "shape1": f"({batch}, …, {cols})", "shape2": f"({batch2}, {rows}, …)",
                                "fix": "B.mT"})
    return said


# ---- broadcasting, view ------------------------------------------------------------------------

def _broadcast(m: re.Match, operands: tuple[Operand, ...]) -> Said:
    size_a, size_b, dim = int(m.group(1)), int(m.group(2)), int(m.group(3))
    tensors = [o for o in _tensors(operands) if o.shape is not None]
    for a in tensors:
        for b in tensors:
            if a is b or a.shape is None or b.shape is None:
                continue
            ndim = max(len(a.shape), len(b.shape))
            k = ndim - dim  # 1: the last dimension
            if k < 1 or k > len(a.shape) or k > len(b.shape):
                continue
            if a.shape[-k] == size_a and b.shape[-k] == size_b:
                return Said("explain.hint.broadcast", {
                    "a": a.expression, "b": b.expression, "shape_a": _shape(a.shape), "shape_b": _shape(b.shape),
                    "size_a": size_a, "size_b": size_b, "from_right": k, "neg": -k})
    return Said("explain.hint.broadcast_plain", {"size_a": size_a, "size_b": size_b, "dim": dim})


def _view(m: re.Match, operands: tuple[Operand, ...]) -> Said:
    x = _with(operands, lambda o: True)
    return Said("explain.hint.view", {"x": _code(x)})


# ---- dtypes ------------------------------------------------------------------------------------

def _dtypes(dtype_a: str, dtype_b: str, operands: tuple[Operand, ...]) -> Said:
    """Two dtypes that an operation (or a layer's weights) will not mix."""
    layer = next((o for o in operands if not o.is_tensor and re.match(r"(Linear|Conv\w*|LSTM|GRU|RNN)\(", o.kind)),
                 None)
    a = _with(operands, lambda o: o.dtype == dtype_a)
    b = _with(operands, lambda o: o.dtype == dtype_b, skip=a)
    if layer is not None:
        x = a if a is not None else _with(operands, lambda o: o.dtype not in ("", "torch.float32"))
        given = dtype_a if dtype_a != "torch.float32" else dtype_b
        key = "explain.hint.dtype_layer_double" if given == "torch.float64" else "explain.hint.dtype_layer"
        return Said(key, {"input": _named(x, "explain.hint.the_input"), "dtype": given, "fix": f"{_code(x)}.float()",
                          "layer": _layer_name(layer)})
    if a is None or b is None:
        a = b = None
    # the one to convert: the integer one (or the float64 one against float32)
    odd_b = dtype_a in _FLOATING and (dtype_b not in _FLOATING or dtype_b == "torch.float64")
    odd = b if odd_b else a
    return Said("explain.hint.dtype", {
        "a": _named(a, "explain.hint.the_first"), "b": _named(b, "explain.hint.the_second"),
        "dtype_a": dtype_a, "dtype_b": dtype_b,
        "fix": f"{odd.expression}.float()" if odd is not None else ".float()"})


def _dtype_pair(m: re.Match, operands: tuple[Operand, ...]) -> Said:
    a, b = _dtype(m.group(1)), _dtype(m.group(2))
    if "Loss(" in "".join(o.kind for o in operands) and a == "torch.int64":
        return _ce_target(m, operands)  # nll_loss's `expected scalar type Long but found Float`
    return _dtypes(a, b, operands)


def _reduce_int(m: re.Match, operands: tuple[Operand, ...]) -> Said:
    fn = m.group("fn") or "std"
    dtype = _dtype(m.group("got")) if m.group("got") else ""
    x = _with(operands, lambda o: o.dtype not in _FLOATING and o.dtype != "")
    if fn == "mean":
        return Said("explain.hint.mean_int", {
            "x": _named(x, "explain.hint.the_tensor"), "dtype": dtype or (x.dtype if x else "torch.int64"),
            "fix": f"{_code(x)}.float().mean()", "fix2": f"{_code(x)}.mean(dtype=torch.float32)"})
    if x is None:
        return Said("explain.hint.std_int_plain", {"fix": f"x.float().{fn}()"})
    return Said("explain.hint.std_int", {"x": x.expression, "dtype": x.dtype, "fix": f"{x.expression}.float().{fn}()"})


# ---- devices -----------------------------------------------------------------------------------

def _devices(dev_a: str, dev_b: str, operands: tuple[Operand, ...]) -> Said:
    a = _with(operands, lambda o: o.device == dev_a)
    b = _with(operands, lambda o: o.device == dev_b, skip=a)
    target = dev_a if dev_a != "cpu" else dev_b  # move to the accelerator, where the model usually is
    moved = b if target == dev_a else a
    if a is None or b is None:
        return Said("explain.hint.device_plain", {"dev_a": dev_a, "dev_b": dev_b, "target": target,
                                                  "fix": f"x.to('{target}')"})
    return Said("explain.hint.device", {
        "a": a.expression, "b": b.expression, "dev_a": dev_a, "dev_b": dev_b, "target": target,
        "fix": f"{moved.expression if moved else 'x'}.to('{target}')"})


def _device_found(m: re.Match, operands: tuple[Operand, ...]) -> Said:
    return _devices(m.group(1), m.group(2), operands)


def _device_got(m: re.Match, operands: tuple[Operand, ...]) -> Said:
    """`... but got mat2 is on cpu, different from other tensors on cuda:0 (when checking ...)`."""
    return _devices(m.group(2), m.group(1), operands)


def _numpy_cuda(m: re.Match, operands: tuple[Operand, ...]) -> Said:
    x = _with(operands, lambda o: o.device not in ("", "cpu"))
    return Said("explain.hint.numpy_cuda", {"device": m.group(1), "x": _named(x, "explain.hint.the_tensor"),
                                            "fix": f"{_code(x)}.cpu().numpy()",
                                            "fix_grad": f"{_code(x)}.detach().cpu().numpy()"})


# ---- autograd ----------------------------------------------------------------------------------

def _backward_scalar(m: re.Match, operands: tuple[Operand, ...]) -> Said:
    y = _with(operands, lambda o: bool(o.shape))
    if y is None:
        return Said("explain.hint.backward_scalar_plain", {})
    return Said("explain.hint.backward_scalar", {
        "y": y.expression, "shape": _shape(y.shape), "fix": f"{y.expression}.sum().backward()",
        "fix2": f"{y.expression}.backward(gradient=torch.ones_like({y.expression}))"})


def _leaf(m: re.Match, operands: tuple[Operand, ...]) -> Said:
    w = _with(operands, lambda o: o.requires_grad)
    return Said("explain.hint.leaf_inplace", {"w": _code(w, "w")})


def _version(m: re.Match, operands: tuple[Operand, ...]) -> Said:
    return Said("explain.hint.inplace_version", {
        "type": m.group(1), "shape": _shape(_sizes(m.group(2))), "op": m.group(3),
        "version": int(m.group(4)), "expected": int(m.group(5))})


def _twice(m: re.Match, operands: tuple[Operand, ...]) -> Said:
    return Said("explain.hint.backward_twice", {})


def _numpy_grad(m: re.Match, operands: tuple[Operand, ...]) -> Said:
    x = _with(operands, lambda o: o.requires_grad)
    cpu = x is None or x.device in ("", "cpu")
    return Said("explain.hint.numpy_grad", {
        "x": _named(x, "explain.hint.the_tensor"),
        "fix": f"{_code(x)}.detach().numpy()" if cpu else f"{_code(x)}.detach().cpu().numpy()",
        "fix_gpu": f"{_code(x)}.detach().cpu().numpy()"})


# ---- single elements, indices -------------------------------------------------------------------

def _item(m: re.Match, operands: tuple[Operand, ...]) -> Said:
    n = int(m.group(1))
    x = _with(operands, lambda o: o.shape is not None and _numel(o.shape) == n)
    if x is None:
        return Said("explain.hint.item_plain", {"n": n, "one": "x[0].item()", "reduce": "x.sum().item()"})
    zeros = ", ".join("0" for _ in _dims(x)) or "0"
    return Said("explain.hint.item", {
        "x": x.expression, "n": n, "shape": _shape(x.shape),
        "one": f"{x.expression}[{zeros}].item()", "reduce": f"{x.expression}.sum().item()"})


def _numel(shape: tuple[int, ...]) -> int:
    n = 1
    for s in shape:
        n *= s
    return n


def _index(m: re.Match, operands: tuple[Operand, ...]) -> Said:
    index, dim, size = int(m.group(1)), int(m.group(2)), int(m.group(3))
    x = _with(operands, lambda o: o.shape is not None and len(o.shape) > dim and o.shape[dim] == size)
    return Said("explain.hint.index", {
        "x": _named(x, "explain.hint.the_tensor"), "index": index, "dim": dim, "size": size,
        "last": size - 1, "neg": -size})


# ---- losses ------------------------------------------------------------------------------------

def _target(operands: tuple[Operand, ...]) -> Operand | None:
    tensors = _tensors(operands)
    return tensors[-1] if len(tensors) >= 2 else None  # loss(output, target)


def _ce_target(m: re.Match, operands: tuple[Operand, ...]) -> Said:
    y = _target(operands)
    if y is None:
        return Said("explain.hint.ce_target_plain", {"fix": "y.long()", "onehot": "y.argmax(dim=1)"})
    return Said("explain.hint.ce_target", {
        "y": y.expression, "what": f"{y.dtype} {_shape(y.shape)}",
        "fix": f"{y.expression}.long()", "onehot": f"{y.expression}.argmax(dim=1)"})


def _ce_batch(m: re.Match, operands: tuple[Operand, ...]) -> Said:
    n_in, n_t = int(m.group(1)), int(m.group(2))
    y = _target(operands)
    if y is None:
        return Said("explain.hint.ce_batch_plain", {"n_in": n_in, "n_t": n_t, "onehot": "y.argmax(dim=1)"})
    return Said("explain.hint.ce_batch", {
        "n_in": n_in, "n_t": n_t, "y": y.expression, "shape": _shape(y.shape),
        "onehot": f"{y.expression}.argmax(dim=1)"})


# ---- the table ---------------------------------------------------------------------------------

_D = r"([A-Za-z][\w. ]*?)"  # a dtype as torch words it: Long, long int, torch.FloatTensor
_PATTERNS: tuple[tuple[type[BaseException], re.Pattern, Callable[[re.Match, tuple[Operand, ...]], Said]], ...] = (
    (RuntimeError, re.compile(r"mat1 and mat2 shapes cannot be multiplied \((\d+)x(\d+) and (\d+)x(\d+)\)"), _mm),
    (RuntimeError, re.compile(r"size mismatch, got input \(\d+\), mat \((\d+)x(\d+)\), vec \((\d+)\)"), _mv),
    (RuntimeError, re.compile(r"Expected size for first two dimensions of batch2 tensor to be: "
                              r"\[(\d+), (\d+)\] but got: \[(\d+), (\d+)\]"), _bmm),
    (RuntimeError, re.compile(r"inconsistent tensor size, expected tensor \[(\d+)\] and src \[(\d+)\] to have the "
                              r"same number of elements"), _dot),
    (RuntimeError, re.compile(r"The size of tensor a \((\d+)\) must match the size of tensor b \((\d+)\) "
                              r"at non-singleton dimension (\d+)"), _broadcast),
    (RuntimeError, re.compile(r"view size is not compatible with input tensor's size and stride"), _view),
    (RuntimeError, re.compile(rf"expected m1 and m2 to have the same dtype, but got: {_D} != {_D}$"), _dtype_pair),
    (RuntimeError, re.compile(rf"mat1 and mat2 must have the same dtype, but got {_D} and {_D}$"), _dtype_pair),
    (RuntimeError, re.compile(rf"expected scalar type {_D} but found {_D}$"), _dtype_pair),
    (RuntimeError, re.compile(rf"dot : expected both vectors to have same dtype, but found {_D} and {_D}$"),
     _dtype_pair),
    (RuntimeError, re.compile(rf"Input type \({_D}\) and (?:bias|weight) type \({_D}\) should be the same"),
     _dtype_pair),
    (ValueError, re.compile(r"RNN input dtype \((torch\.\w+)\) does not match weight dtype \((torch\.\w+)\)"),
     _dtype_pair),
    (RuntimeError, re.compile(r"(?P<fn>\w+)\(\): could not infer output dtype\. Input dtype must be either a floating "
                              r"point or complex dtype\. Got: (?P<got>\w+)"), _reduce_int),
    (RuntimeError, re.compile(r"(?P<fn>)(?P<got>)std and var only support floating point and complex dtypes"),
     _reduce_int),
    (RuntimeError, re.compile(r"Expected all tensors to be on the same device, but found at least two devices, "
                              r"([\w:]+) and ([\w:]+)!"), _device_found),
    (RuntimeError, re.compile(r"Expected all tensors to be on the same device, but got \w+ is on ([\w:]+), "
                              r"different from other tensors on ([\w:]+)"), _device_got),
    (TypeError, re.compile(r"can't convert ([\w:]+) device type tensor to numpy"), _numpy_cuda),
    (RuntimeError, re.compile(r"grad can be implicitly created only for scalar outputs"), _backward_scalar),
    (RuntimeError, re.compile(r"a leaf Variable that requires grad is being used in an in-place operation"), _leaf),
    (RuntimeError, re.compile(r"one of the variables needed for gradient computation has been modified by an "
                              r"inplace operation: \[([\w.]+) \[([\d, ]*)\]\], which is output \d+ of (\w+), "
                              r"is at version (\d+); expected version (\d+) instead"), _version),
    (RuntimeError, re.compile(r"Trying to backward through the graph a second time"), _twice),
    (RuntimeError, re.compile(r"Can't call numpy\(\) on Tensor that requires grad"), _numpy_grad),
    (RuntimeError, re.compile(r"a Tensor with (\d+) elements cannot be converted to Scalar"), _item),
    (IndexError, re.compile(r"index (-?\d+) is out of bounds for dimension (\d+) with size (\d+)"), _index),
    (RuntimeError, re.compile(r"expected target dtype to be Long or Byte, but got \w+"), _ce_target),
    (RuntimeError, re.compile(r"0D or 1D target tensor expected, multi-target not supported"), _ce_target),
    (RuntimeError, re.compile(r"Expected floating point type for target with class probabilities, got \w+"),
     _ce_target),
    (ValueError, re.compile(r"Expected input batch_size \((\d+)\) to match target batch_size \((\d+)\)"), _ce_batch),
)


def hint_for(exc: BaseException, operands: tuple[Operand, ...] = ()) -> Said | None:
    """The hint for `exc` (raised by a tensor operation whose operands are `operands`, when the
    line's are known), or None where torch's message is none the hints know."""
    message = str(exc)
    for kind, pattern, make in _PATTERNS:
        if isinstance(exc, kind):
            found = pattern.search(message)
            if found is not None:
                return make(found, tuple(operands))
    return None
