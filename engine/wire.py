"""Engine results as plain JSON and back, so they can cross from the kernel process to the UI.

Frozen dataclasses become `{"@": "ClassName", field: value, ...}`; tuples become lists and come
back as tuples. Live objects (tensors, modules) never cross: a field that holds one, and any value
JSON cannot carry, becomes its short text (tensor fields become None). Only the classes named in
`known_classes()` are rebuilt, so a message can never make the receiver build an arbitrary object.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

TAG = "@"


def known_classes() -> dict[str, type]:
    # (imported on the first message: the app's first frame waits for none of these modules)
    from engine.autograd import ForwardRow, Graph, GraphNode, Recording, Step, TensorView
    from engine.distributed import DistributedResult, RankReport
    from engine.grad_health import HealthSnapshot, ParamHealth
    from engine.gradcheck import GradCheck
    from engine.i18n import Said
    from engine.model_view import LayerNode, LayerParameter, ModelSummary
    from engine.repl.variables import Variable, VariableDetails
    from engine.tasks import wire_classes
    from engine.tensors import TensorStats, TensorSummary
    from engine.tour import CheckResult
    from engine.training import Progress, Result, RunConfig

    return {c.__name__: c for c in (ForwardRow, GradCheck, Graph, GraphNode, Recording, Step, TensorView, TensorStats,
                                    TensorSummary, Variable, VariableDetails, CheckResult, Progress, Result,
                                    RunConfig, Said, DistributedResult, RankReport, LayerNode, LayerParameter,
                                    ModelSummary, HealthSnapshot, ParamHealth, *wire_classes())}


def _is_live(value: Any) -> bool:
    """A tensor, array or module: data that stays in the kernel."""
    module = type(value).__module__ or ""
    return module.startswith(("torch", "numpy")) and (hasattr(value, "shape") or hasattr(value, "parameters"))


def to_wire(value: Any) -> Any:
    """A JSON-ready copy of `value` (dataclasses tagged with their class name)."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        # JSON has no NaN or Inf: send them as text and turn them back on the other side
        return value if math.isfinite(value) else {TAG: "float", "v": repr(value)}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out: dict[str, Any] = {TAG: type(value).__name__}
        for f in dataclasses.fields(value):
            item = getattr(value, f.name)
            out[f.name] = None if _is_live(item) else to_wire(item)
        return out
    if isinstance(value, (list, tuple)):
        return [to_wire(v) for v in value]
    if isinstance(value, dict):
        return {str(k): None if _is_live(v) else to_wire(v) for k, v in value.items()}
    return str(value)


def from_wire(data: Any, classes: dict[str, type] | None = None) -> Any:
    """Rebuild what to_wire() made; lists become tuples, as the dataclasses declare them."""
    if isinstance(data, list):
        return tuple(from_wire(v, classes) for v in data)
    if isinstance(data, dict):
        tag = data.get(TAG)
        if tag == "float":
            return float(data["v"])
        if tag is not None:
            known = classes if classes is not None else known_classes()
            cls = known.get(tag)
            if cls is None:
                raise ValueError(f"unknown type in message: {tag!r}")
            names = {f.name for f in dataclasses.fields(cls)}
            values = {k: from_wire(v, known) for k, v in data.items() if k in names}
            return cls(**values)
        return {k: from_wire(v, classes) for k, v in data.items()}
    return data
