"""Completion from the live namespace that never runs user code: names come from dict keys,
dir() of torch/numpy objects and attributes looked up with inspect.getattr_static."""

from __future__ import annotations

import builtins
import inspect
import keyword
import re
import types

TAIL = re.compile(r"([A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)*)?(\.)?(\w*)$")
SAFE_DIR_MODULES = ("torch", "numpy", "builtins")
MAX_RESULTS = 1000


MODULE_TABLES = ("_modules", "_parameters", "_buffers")  # where nn.Module keeps what __getattr__ finds


def _module_members(obj) -> dict:
    """Submodules, parameters and buffers of an nn.Module (any object keeping such tables)."""
    found: dict = {}
    own = getattr(obj, "__dict__", None)
    if isinstance(own, dict):
        for table in MODULE_TABLES:
            entries = own.get(table)
            if isinstance(entries, dict):
                found.update(entries)
    return found


def _safe_dir(obj) -> list[str]:
    members = list(_module_members(obj))
    return members + _plain_dir(obj)


def _plain_dir(obj) -> list[str]:
    cls = type(obj)
    if isinstance(obj, types.ModuleType):
        return list(vars(obj))
    module = getattr(cls, "__module__", "") or ""
    if cls.__dir__ is object.__dir__ or module.split(".")[0] in SAFE_DIR_MODULES:
        try:
            return dir(obj)
        except Exception:
            return []
    return list(object.__dir__(obj))


def _resolve(path: list[str], namespace: dict):
    """Follow a dotted path without calling properties or __getattr__; None if unsafe or missing."""
    first = path[0]
    if first in namespace:
        obj = namespace[first]
    elif hasattr(builtins, first):
        obj = getattr(builtins, first)
    else:
        return None
    for name in path[1:]:
        try:
            attr = inspect.getattr_static(obj, name)
        except AttributeError:
            members = _module_members(obj)
            if name not in members:
                return None
            attr = members[name]
        if isinstance(attr, (property, types.GetSetDescriptorType, types.MemberDescriptorType)) or (
            hasattr(attr, "__get__") and not callable(attr) and not isinstance(attr, (types.ModuleType, type))
        ):
            return None  # reading it would run code
        if isinstance(attr, (staticmethod, classmethod)):
            attr = attr.__func__
        obj = attr
    return obj


def complete(text: str, namespace: dict) -> tuple[int, list[str]]:
    """Completions for the end of `text`: (offset where the completed word starts, candidates)."""
    match = TAIL.search(text)
    if not match:
        return len(text), []
    base, dot, word = match.group(1), match.group(2), match.group(3)
    start = len(text) - len(word)
    if dot and base:
        obj = _resolve(base.split("."), namespace)
        if obj is None:
            return start, []
        names = _safe_dir(obj)
    elif base and not dot:
        # `torch.ze` parsed as base="torch.ze": split off the last part
        parts = base.split(".")
        word = parts[-1]
        start = len(text) - len(word)
        if len(parts) > 1:
            obj = _resolve(parts[:-1], namespace)
            if obj is None:
                return start, []
            names = _safe_dir(obj)
        else:
            names = [*namespace, *vars(builtins), *keyword.kwlist]
    else:
        names = list(namespace) + list(vars(builtins))
    hide_private = not word.startswith("_")
    found = sorted({n for n in names if n.startswith(word) and not (hide_private and n.startswith("_"))})
    return start, found[:MAX_RESULTS]


def common_prefix(words: list[str]) -> str:
    if not words:
        return ""
    first, last = min(words), max(words)
    i = 0
    while i < len(first) and i < len(last) and first[i] == last[i]:
        i += 1
    return first[:i]


def signature(name: str, namespace: dict) -> str | None:
    """`torch.cat(tensors, dim=0, *, out=None) -> Tensor` for a dotted name, found the way
    completion finds things (no property or __getattr__ runs); None if it is not callable."""
    if not re.fullmatch(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*", name or ""):
        return None
    parts = name.split(".")
    obj = _resolve(parts, namespace)
    if obj is None or not callable(obj):
        return None
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        sig = None
    if sig is not None:
        owner = _resolve(parts[:-1], namespace) if len(parts) > 1 else None
        if owner is not None and not isinstance(owner, (type, types.ModuleType)) and inspect.isfunction(obj):
            sig = sig.replace(parameters=list(sig.parameters.values())[1:])  # called on an instance: no self
        return f"{name}{sig}"
    # C functions (most of torch) carry their signature as the first line of the docstring
    doc = (getattr(obj, "__doc__", None) or "").strip()
    first = doc.splitlines()[0].strip() if doc else ""
    short = name.rsplit(".", 1)[-1]
    if first.startswith(short + "("):
        return name[: len(name) - len(short)] + first
    return None
