"""The failing line of the learner's code and the operands of the operation that failed on it.

The traceback is walked once to its innermost frame of the learner's (engine.explain.frames); the
instruction Python was running there (`co_positions()` at `tb_lasti`) names the AST node that
failed, and its operands are looked up in that frame: names, attribute chains that run no code of
the learner's (no property, no `__getattr__`), subscripts of plain containers and tensors. A call
is never run again; its result is filled in only when the traceback went on into the called
function, whose frame holds its arguments (`loss_fn(model(x), y)` failing inside the loss).
Nothing here raises: whatever goes wrong, what was found so far (or None) comes back.
"""

from __future__ import annotations

import ast
import builtins
import collections
import inspect
import linecache
import sys
import types
import warnings
from typing import Any

from engine.explain.frames import is_library
from engine.explain.model import Operand, Site

MAX_OPERANDS = 8
KIND_CHARS = 60  # a layer's repr line, cut
BELOW_KEPT = 64  # library frames under the learner's innermost one, looked at for the layer
ATTRIBUTE_CHAIN = 16  # `a.b.c…` steps looked up at most
SOURCE_CHARS = 1_000_000  # a file bigger than this is not parsed whole (its statement is)

_MISSING = object()
_LIBRARY: dict[types.CodeType, bool] = {}

# operations whose operands are shown, most telling first when several nodes share a span
_OPERATIONS = (ast.AugAssign, ast.BinOp, ast.Call, ast.Subscript, ast.Compare, ast.UnaryOp, ast.Attribute)

# descriptors of C types: getting them runs no Python code
_C_DESCRIPTORS = (types.GetSetDescriptorType, types.MemberDescriptorType, types.MethodDescriptorType,
                  types.WrapperDescriptorType, types.ClassMethodDescriptorType)

CO_VARARGS = 0x04
CO_VARKEYWORDS = 0x08


def _is(value: object, kinds: type | tuple[type, ...]) -> bool:
    """isinstance() as the value's type says, without asking the value for its __class__ (which a
    property of the learner's, a mock's, could answer)."""
    return issubclass(type(value), kinds)


def _descriptor(value: object) -> bool:
    """Getting it from a class would run its __get__."""
    return inspect.getattr_static(type(value), "__get__", _MISSING) is not _MISSING


def _library(code: types.CodeType) -> bool:
    known = _LIBRARY.get(code)
    if known is None:
        if len(_LIBRARY) > 10_000:
            _LIBRARY.clear()
        known = _LIBRARY[code] = is_library(code.co_filename)
    return known


def _torch() -> Any:
    """torch, when the learner's code has imported it (it is never imported here)."""
    return sys.modules.get("torch")


class _Quiet:
    """No warnings shown (a non-leaf's `.grad`, a 3-d tensor's `.T`) and no `__torch_function__`
    of a tensor subclass run while operands are looked up."""

    def __enter__(self) -> _Quiet:
        self._warnings = warnings.catch_warnings()
        self._warnings.__enter__()
        warnings.simplefilter("ignore")
        torch = _torch()
        self._subclass = None
        if torch is not None:
            disable = getattr(getattr(torch, "_C", None), "DisableTorchFunctionSubclass", None)
            if disable is not None:
                self._subclass = disable()
                self._subclass.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._subclass is not None:
            self._subclass.__exit__(None, None, None)
        self._warnings.__exit__(None, None, None)


# --- the traceback ------------------------------------------------------------------------------


def _walk(tb: types.TracebackType | None) -> tuple[types.TracebackType | None, list[types.FrameType]]:
    """The innermost traceback entry of the learner's code, and the library frames under it
    (the last BELOW_KEPT of them, outermost first). One pass, however deep the traceback."""
    mine = None
    below: collections.deque[types.FrameType] = collections.deque(maxlen=BELOW_KEPT)
    last_code = None
    last_library = True
    while tb is not None:
        code = tb.tb_frame.f_code
        if code is not last_code:
            last_code, last_library = code, _library(code)
        if last_library:
            if mine is not None:
                below.append(tb.tb_frame)
        else:
            mine = tb
            below.clear()
        tb = tb.tb_next
    return mine, list(below)


def _positions(code: types.CodeType, lasti: int) -> tuple[int | None, int | None, int | None, int | None]:
    if lasti < 0:
        return None, None, None, None
    for index, position in enumerate(code.co_positions()):
        if index == lasti // 2:
            return position
    return None, None, None, None


# --- the source and its AST ---------------------------------------------------------------------


def _source_lines(filename: str) -> list[str]:
    entry = linecache.cache.get(filename)
    if entry is not None and len(entry) >= 3 and entry[2]:
        return list(entry[2])
    if filename.startswith("<"):
        return []
    return linecache.getlines(filename)


class _Parsed:
    """A piece of the source parsed: its text, and where its first line lies in the file (the
    AST's line 1 is the file's line `first`, its first line having lost `indent` bytes)."""

    def __init__(self, text: str, tree: ast.AST, first: int = 1, indent: int = 0) -> None:
        self.text, self.tree, self.first, self.indent = text, tree, first, indent

    def span(self, node: ast.AST) -> tuple[int, int, int, int] | None:
        """The node's (lineno, end_lineno, col, end_col) in the file, bytes as Python counts."""
        lineno = getattr(node, "lineno", None)
        end_lineno = getattr(node, "end_lineno", None)
        col = getattr(node, "col_offset", None)
        end_col = getattr(node, "end_col_offset", None)
        if lineno is None or end_lineno is None or col is None or end_col is None:
            return None
        return (lineno + self.first - 1, end_lineno + self.first - 1,
                col + (self.indent if lineno == 1 else 0), end_col + (self.indent if end_lineno == 1 else 0))

    def segment(self, node: ast.AST) -> str:
        try:
            text = ast.get_source_segment(self.text, node)
        except Exception:
            text = None
        if not text:
            try:
                text = ast.unparse(node)
            except Exception:
                text = type(node).__name__
        return " ".join(part.strip() for part in text.splitlines()) if "\n" in text else text


def _parse(lines: list[str], lineno: int, end_lineno: int) -> _Parsed | None:
    """The whole file parsed when it parses (a multi-line statement is then whole), else with
    IPython's magics and shell lines blanked, else the failing lines alone."""
    text = "".join(lines)
    if len(text) <= SOURCE_CHARS:
        try:
            return _Parsed(text, ast.parse(text))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            pass
        blanked = []
        for line in lines:
            stripped = line.lstrip()
            if stripped.startswith(("%", "!")) or stripped.rstrip().endswith("?"):
                line = line[:len(line) - len(stripped)] + "pass\n"
            blanked.append(line)
        try:
            return _Parsed("".join(blanked), ast.parse("".join(blanked)))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            pass
    piece = lines[lineno - 1:max(end_lineno, lineno)]
    if not piece:
        return None
    indent = len(piece[0]) - len(piece[0].lstrip())
    piece = [piece[0][indent:], *piece[1:]]
    indent_bytes = len(lines[lineno - 1][:indent].encode())
    for wrap in ("{}", "({}\n)"):
        snippet = wrap.format("".join(piece))
        try:
            tree = ast.parse(snippet)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        # a wrapping "(" moves the first line's columns one byte right
        return _Parsed(snippet, tree, lineno, indent_bytes - (wrap != "{}"))
    return None


def _failing_node(parsed: _Parsed, lineno: int, end_lineno: int | None, col: int | None,
                  end_col: int | None) -> ast.AST | None:
    """The node Python's positions point to; else the smallest operation that holds them; else
    the outermost operation on the line."""
    exact: list[ast.AST] = []
    holding: list[tuple[int, ast.AST]] = []
    on_line: list[ast.AST] = []
    for node in ast.walk(parsed.tree):
        if not isinstance(node, (ast.expr, ast.AugAssign)):
            continue
        span = parsed.span(node)
        if span is None or span[0] > (end_lineno or lineno) or span[1] < lineno:
            continue
        if col is not None and end_col is not None and end_lineno is not None:
            if span == (lineno, end_lineno, col, end_col):
                exact.append(node)
            elif isinstance(node, _OPERATIONS) and (span[0], span[2]) <= (lineno, col) \
                    and (span[1], span[3]) >= (end_lineno, end_col):
                size = (span[1] - span[0]) * 10_000 + span[3] - span[2]
                holding.append((size, node))
        if isinstance(node, _OPERATIONS) and span[0] <= lineno <= span[1]:
            on_line.append(node)  # ast.walk goes breadth first: the outermost come first
    for kind in _OPERATIONS:
        for node in exact:
            if isinstance(node, kind):
                return node
    if exact:
        return None  # a name, a constant: no operation failed there
    if holding:
        return min(holding, key=lambda item: item[0])[1]
    for kind in (ast.AugAssign, ast.Call, ast.BinOp, ast.Subscript, ast.Compare, ast.UnaryOp):
        for node in on_line:
            if isinstance(node, kind):
                return node
    return None


# --- looking values up without running anything ------------------------------------------------


def _static(obj: object, name: str) -> Any:
    """obj.name when getting it runs none of the learner's code, else _MISSING."""
    torch = _torch()
    try:
        found = inspect.getattr_static(obj, name)
    except AttributeError:
        found = _MISSING
    except Exception:
        return _MISSING
    if found is _MISSING:
        # a layer's parameters, buffers and sublayers live in its dicts, behind nn.Module.__getattr__
        if torch is not None and _is(obj, torch.nn.Module):
            try:
                own = object.__getattribute__(obj, "__dict__")
            except Exception:
                return _MISSING
            for store in ("_parameters", "_buffers", "_modules"):
                held = own.get(store)
                if type(held) is dict and name in held:
                    return held[name]
        if _is(obj, types.ModuleType):
            module_name = inspect.getattr_static(obj, "__name__", "")
            return sys.modules.get(f"{module_name}.{name}", _MISSING) if type(module_name) is str else _MISSING
        return _MISSING
    if _is(obj, type):
        meta = inspect.getattr_static(type(obj), name, _MISSING)
        if meta is not _MISSING and _descriptor(meta) and not _is(meta, _C_DESCRIPTORS):
            return _MISSING
        if _is(found, staticmethod):
            return found.__func__
        if _is(found, classmethod):
            return types.MethodType(found.__func__, obj)
        if _is(found, (types.FunctionType, property)) or not _descriptor(found):
            return found
        if _is(found, _C_DESCRIPTORS):
            try:
                return found.__get__(None, obj)
            except Exception:
                return _MISSING
        return _MISSING
    if not _descriptor(found):
        return found  # a plain value, in the instance's dict or the class's
    if _is(obj, types.ModuleType):
        return found  # a module's functions and classes, as they are
    try:
        own = object.__getattribute__(obj, "__dict__")
        if own.get(name, _MISSING) is found:
            return found
    except Exception:
        pass
    if _is(found, types.FunctionType):
        return types.MethodType(found, obj)
    if _is(found, staticmethod):
        return found.__func__
    if _is(found, classmethod):
        return types.MethodType(found.__func__, type(obj))
    tensor_own = (torch is not None and _is(obj, torch.Tensor)
                  and inspect.getattr_static(torch.Tensor, name, _MISSING) is found)
    if _is(found, _C_DESCRIPTORS) or (tensor_own and _is(found, property)):
        try:
            return found.__get__(obj, type(obj))
        except Exception:
            return _MISSING
    return _MISSING  # a property or another descriptor of the learner's: it would run


def _safe_container(obj: object) -> bool:
    """Indexing it runs no code of the learner's."""
    getitem = inspect.getattr_static(type(obj), "__getitem__", _MISSING)
    if getitem is _MISSING:
        return False
    allowed = [inspect.getattr_static(kind, "__getitem__") for kind in (tuple, list, dict, str, bytes, range)]
    torch = _torch()
    if torch is not None:
        nn = torch.nn
        for kind in (torch.Tensor, torch.Size, nn.Sequential, nn.ModuleList, nn.ModuleDict,
                     nn.ParameterList, nn.ParameterDict):
            allowed.append(inspect.getattr_static(kind, "__getitem__", _MISSING))
    return any(getitem is kind for kind in allowed)


def _literal(node: ast.AST, scope: _Scope) -> Any:
    """An index as typed: constants, slices and tuples of them, or a name's value."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)) \
            and isinstance(node.operand, ast.Constant) and type(node.operand.value) in (int, float):
        number: int | float = node.operand.value  # type: ignore[assignment]
        return -number if isinstance(node.op, ast.USub) else number
    if isinstance(node, ast.Slice):
        parts = [None if part is None else _literal(part, scope) for part in (node.lower, node.upper, node.step)]
        return _MISSING if _MISSING in parts else slice(*parts)
    if isinstance(node, ast.Tuple):
        items = [_literal(item, scope) for item in node.elts]
        return _MISSING if any(item is _MISSING for item in items) else tuple(items)
    value = scope.value(node)
    torch = _torch()
    if type(value) in (int, bool, str, slice, type(None), type(Ellipsis)) \
            or (torch is not None and _is(value, torch.Tensor)):
        return value
    return _MISSING


class _Scope:
    """Values as the learner's frame sees them, and the call results its callee's frame holds."""

    def __init__(self, frame: types.FrameType) -> None:
        self.frame = frame
        self.local = frame.f_locals  # (a function's frame builds this dict anew when asked)
        self.filled: dict[int, Any] = {}  # id(ast node of a call) -> its result, from the callee

    def name(self, name: str) -> Any:
        for scope in (self.local, self.frame.f_globals):
            if name in scope:
                return scope[name]
        spaces = self.frame.f_builtins
        if type(spaces) is not dict:
            spaces = builtins.__dict__
        return spaces[name] if name in spaces else _MISSING

    def value(self, node: ast.AST, depth: int = 0) -> Any:
        if id(node) in self.filled:
            return self.filled[id(node)]
        if depth > ATTRIBUTE_CHAIN:
            return _MISSING
        if isinstance(node, ast.Name):
            return self.name(node.id)
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Attribute):
            base = self.value(node.value, depth + 1)
            return _MISSING if base is _MISSING else _static(base, node.attr)
        if isinstance(node, ast.Subscript):
            base = self.value(node.value, depth + 1)
            if base is _MISSING or not _safe_container(base):
                return _MISSING
            index = _literal(node.slice, self)
            if index is _MISSING:
                return _MISSING
            try:
                return base[index]
            except Exception:
                return _MISSING
        if isinstance(node, (ast.Tuple, ast.List)):
            items = [self.value(item, depth + 1) for item in node.elts]
            if any(item is _MISSING for item in items):
                return _MISSING
            return tuple(items) if isinstance(node, ast.Tuple) else items
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant):
            return _literal(node, self)
        return _MISSING  # a call, an operation: it would have to run again


# --- operands ------------------------------------------------------------------------------------


def _children(module: Any) -> dict:
    """A layer's sublayers, as nn.Module keeps them (no method of the learner's asked)."""
    try:
        children = object.__getattribute__(module, "__dict__").get("_modules")
    except Exception:
        return {}
    return children if type(children) is dict else {}


def _module_line(module: Any) -> str:
    """A layer's repr's first line, made without running a repr or extra_repr of the learner's:
    torch's own layers say their extra_repr (`Linear(in_features=3, …)`); a learner's class
    that would say something there shows `…` instead."""
    torch = _torch()
    kind = type(module)
    name = kind.__name__
    if inspect.getattr_static(kind, "__repr__", None) is not inspect.getattr_static(torch.nn.Module, "__repr__"):
        return name[:KIND_CHARS]
    extra = ""
    extra_repr = inspect.getattr_static(kind, "extra_repr", None)
    if extra_repr is not inspect.getattr_static(torch.nn.Module, "extra_repr"):
        if str(getattr(kind, "__module__", None) or "").startswith("torch.") and _is(extra_repr, types.FunctionType):
            try:
                extra = str(extra_repr(module))
            except Exception:
                extra = "…"
        else:
            extra = "…"
    children = _children(module)
    extra_lines = extra.split("\n") if extra else []
    if not extra_lines and not children:
        line = f"{name}()"
    elif len(extra_lines) == 1 and not children:
        line = f"{name}({extra_lines[0]})"
    else:  # its children's lines would follow: the table has room for one
        line = f"{name}(…)"
    return line if len(line) <= KIND_CHARS else line[:KIND_CHARS - 1] + "…"


def _named_layers(model: Any, limit: int = 10_000) -> Any:
    """(dotted name, layer) for every layer under `model`, as named_modules() says them, walked
    through the dicts nn.Module keeps its sublayers in."""
    seen = {id(model)}
    todo = collections.deque([("", model)])
    while todo and limit > 0:
        prefix, module = todo.popleft()
        for name, child in _children(module).items():
            limit -= 1
            if child is None or id(child) in seen or type(name) is not str:
                continue
            seen.add(id(child))
            dotted = f"{prefix}.{name}" if prefix else name
            yield dotted, child
            todo.append((dotted, child))


def _is_module(value: Any) -> bool:
    torch = _torch()
    return torch is not None and _is(value, torch.nn.Module)


def _operand(expression: str, value: Any, name_in_model: str = "") -> Operand:
    if value is _MISSING:
        return Operand(expression, looked_up=False)
    torch = _torch()
    if torch is not None and _is(value, torch.Tensor):
        try:
            shape: tuple[int, ...] | None = tuple(int(size) for size in value.shape)
        except Exception:
            shape = None
        return Operand(expression, is_tensor=True, shape=shape, dtype=str(value.dtype),
                       device=str(value.device), requires_grad=bool(value.requires_grad),
                       name_in_model=name_in_model)
    if _is_module(value):
        return Operand(expression, kind=_module_line(value), name_in_model=name_in_model)
    return Operand(expression, kind=type(value).__name__)


class _Operands:
    def __init__(self, parsed: _Parsed, scope: _Scope) -> None:
        self.parsed, self.scope = parsed, scope
        self.found: list[tuple[Operand, Any]] = []

    def add(self, node: ast.AST, expression: str | None = None) -> None:
        if len(self.found) >= MAX_OPERANDS:
            return
        text = expression if expression is not None else self.parsed.segment(node)
        if isinstance(node, ast.Starred):
            node = node.value
        try:
            value = self.scope.value(node)
            operand = _operand(text, value)
        except Exception:  # this one is not shown as looked up; the others still are
            value, operand = _MISSING, Operand(text, looked_up=False)
        self.found.append((operand, value))

    def argument(self, node: ast.AST) -> None:
        """A call's argument; a list or tuple typed in the call (`torch.cat([a, b])`) shows
        each of its items."""
        if isinstance(node, (ast.List, ast.Tuple)) and node.elts \
                and not all(isinstance(item, ast.Constant) for item in node.elts):
            for item in node.elts:
                self.add(item)
        else:
            self.add(node)

    def of(self, node: ast.AST) -> None:
        if isinstance(node, ast.BinOp):
            self.add(node.left)
            self.add(node.right)
        elif isinstance(node, ast.AugAssign):
            self.add(node.target)
            self.add(node.value)
        elif isinstance(node, ast.Subscript):
            self.add(node.value)
            index = node.slice
            value = _literal(index, self.scope)
            if len(self.found) < MAX_OPERANDS:
                self.found.append((_operand(self.parsed.segment(index), value), value))
            if isinstance(node.ctx, ast.Store):  # `x[0:3] = v`: what was put there, too
                assigned = self._assigned(node)
                if assigned is not None:
                    self.add(assigned)
        elif isinstance(node, ast.Compare):
            self.add(node.left)
            for other in node.comparators:
                self.add(other)
        elif isinstance(node, ast.UnaryOp):
            self.add(node.operand)
        elif isinstance(node, ast.Attribute):
            self.add(node.value)
        elif isinstance(node, ast.Call):
            self.call(node)

    def _assigned(self, target: ast.AST) -> ast.AST | None:
        """The value assigned to `target` by the statement it is a target of."""
        for statement in ast.walk(self.parsed.tree):
            if isinstance(statement, ast.Assign):
                targets = statement.targets
            elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
                targets = [statement.target]
            else:
                continue
            if any(part is target for whole in targets for part in ast.walk(whole)):
                return statement.value
        return None

    def call(self, node: ast.Call) -> None:
        func = node.func
        callee = self.scope.value(func)
        if _is_module(callee):
            self.add(func)  # the layer called (`model(x)`, `self.fc1(h)`)
        elif isinstance(func, ast.Attribute):
            receiver = self.scope.value(func.value)
            if not _is(receiver, (types.ModuleType, type)):
                self.add(func.value)  # `x.mm(y)`: the tensor the method is called on
        for argument in node.args:
            self.argument(argument)
        for keyword in node.keywords:
            prefix = f"{keyword.arg}=" if keyword.arg else "**"
            self.add(keyword.value, prefix + self.parsed.segment(keyword.value))


def _callee_arguments(call: ast.Call, callee: types.FrameType, scope: _Scope) -> dict[int, Any]:
    """The results of the call's arguments that are calls themselves, from the frame of the
    function the call went into (its bound arguments), when that frame is the callee's."""
    code = callee.f_code
    function = scope.value(call.func)
    if function is _MISSING:
        return {}
    bound = 0  # arguments bound before the call's own: a method's self
    if _is_module(function):
        torch = _torch()
        impls = [getattr(torch.nn.Module, name, None) for name in ("_wrapped_call_impl", "_call_impl", "__call__")]
        if not any(getattr(impl, "__code__", None) is code for impl in impls):
            return {}
        bound = 1
    else:
        target = function
        if _is(target, types.MethodType):
            target, bound = target.__func__, 1
        if _is(target, type):
            target, bound = inspect.getattr_static(target, "__init__", None), 1
        if not _is(target, types.FunctionType) or target.__code__ is not code:
            return {}
    try:
        local = callee.f_locals
    except Exception:
        return {}
    names = code.co_varnames
    positional = names[:code.co_argcount]
    keyword_only = names[code.co_argcount:code.co_argcount + code.co_kwonlyargcount]
    rest = code.co_argcount + code.co_kwonlyargcount
    varargs = names[rest] if code.co_flags & CO_VARARGS else None
    varkw = names[rest + bool(varargs)] if code.co_flags & CO_VARKEYWORDS else None
    filled: dict[int, Any] = {}
    for index, argument in enumerate(call.args):
        if isinstance(argument, ast.Starred):
            break  # the places of those after it are not known
        place = index + bound
        if place < len(positional):
            value = local.get(positional[place], _MISSING)
        elif varargs is not None and type(local.get(varargs)) is tuple:
            extra = local[varargs]
            at = place - len(positional)
            value = extra[at] if at < len(extra) else _MISSING
        else:
            value = _MISSING
        if isinstance(argument, ast.Call) and value is not _MISSING:
            filled[id(argument)] = value
    for keyword in call.keywords:
        if keyword.arg is None or not isinstance(keyword.value, ast.Call):
            continue
        if keyword.arg in positional or keyword.arg in keyword_only:
            value = local.get(keyword.arg, _MISSING)
        elif varkw is not None and type(local.get(varkw)) is dict:
            value = local[varkw].get(keyword.arg, _MISSING)
        else:
            value = _MISSING
        if value is not _MISSING:
            filled[id(keyword.value)] = value
    return filled


def _layer(found: list[tuple[Operand, Any]], below: list[types.FrameType]) -> Operand | None:
    """The innermost layer the failing operation went into (a Sequential's Linear that got too
    many input features), with its name in the model that holds it, when it is no operand."""
    layer = None
    for frame in reversed(below):
        code = frame.f_code
        if not code.co_argcount or code.co_varnames[0] != "self":
            continue
        try:
            candidate = frame.f_locals.get("self")
        except Exception:
            continue
        if _is_module(candidate):
            layer = candidate
            break
    if layer is None or any(value is layer for _, value in found):
        return None
    for operand, value in found:
        if not _is_module(value):
            continue
        try:
            for name, module in _named_layers(value):
                if module is layer:
                    return _operand(_dotted(operand.expression, name), layer, name)
        except Exception:
            continue
    return _operand(type(layer).__name__, layer)


def _dotted(expression: str, name: str) -> str:
    """`model` and "encoder.0" as the learner would type it: `model.encoder[0]`."""
    for part in name.split("."):
        expression += f"[{part}]" if part.isdigit() else f".{part}"
    return expression


def _column(raw: str, offset: int | None) -> int | None:
    """A byte offset in the raw line as a character index in the stripped line."""
    if offset is None:
        return None
    indent = len(raw) - len(raw.lstrip())
    chars = len(raw.encode()[:offset].decode(errors="ignore"))
    return max(0, min(chars - indent, len(raw.strip())))


def explain_operands(exc: BaseException,
                     tb: types.TracebackType | None) -> tuple[Site, tuple[Operand, ...]] | None:
    """The failing line of the learner's innermost frame in `tb` and the operands of the
    operation that failed there (at most MAX_OPERANDS); None when no frame of the learner's
    has its source at hand. Nothing is run again, nothing raises."""
    try:
        mine, below = _walk(tb)
        if mine is None:
            return None
        frame = mine.tb_frame
        code = frame.f_code
        lines = _source_lines(code.co_filename)
        lineno = mine.tb_lineno
        if lineno is None or not 0 < lineno <= len(lines):
            return None
        raw = lines[lineno - 1].rstrip("\r\n")
        start, end_lineno, col, end_col = _positions(code, mine.tb_lasti)
        if start != lineno:
            start, end_lineno, col, end_col = lineno, None, None, None
        site = Site(code.co_filename, lineno, raw.strip(), _column(raw, col),
                    _column(raw, end_col) if end_lineno == lineno else
                    (len(raw.strip()) if col is not None else None))
    except Exception:
        return None
    found: list[tuple[Operand, Any]] = []
    try:
        with _Quiet():
            parsed = _parse(lines, lineno, end_lineno or lineno)
            if parsed is None:
                return site, ()
            node = _failing_node(parsed, lineno, end_lineno, col, end_col)
            if node is None:
                return site, ()
            scope = _Scope(frame)
            if isinstance(node, ast.Call) and mine.tb_next is not None:
                scope.filled = _callee_arguments(node, mine.tb_next.tb_frame, scope)
            operands = _Operands(parsed, scope)
            found = operands.found
            operands.of(node)
            if len(found) < MAX_OPERANDS:
                layer = _layer(found, below)
                if layer is not None:
                    found.append((layer, None))
    except Exception:
        pass
    return site, tuple(operand for operand, _ in found[:MAX_OPERANDS])
