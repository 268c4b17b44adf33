"""The recorded backward walk as plain text, for `torchtui grad` and for scripts."""

from __future__ import annotations

from engine.autograd import HIDDEN, Graph, Recording
from engine.tensors import shape_text


def graph_lines(graph: Graph, current: int | None = None) -> list[str]:
    """The graph from the root down to the leaves, one node a line; a node reached twice is
    drawn once and referred to by its number afterwards."""
    lines: list[str] = []
    drawn: set[int] = set()

    def draw(node_id: int, prefix: str, last: bool, top: bool) -> None:
        node = graph.node(node_id)
        branch = "" if top else ("└─ " if last else "├─ ")
        mark = "▶ " if node_id == current else ""
        shape = shape_text(node.shape) if len(node.outputs) <= 1 else \
            "outputs " + ", ".join(shape_text(o) for o in node.outputs)
        if node_id in drawn:
            lines.append(f"{prefix}{branch}{mark}#{node_id} {node.title()} (see above)")
            return
        drawn.add(node_id)
        skipped = sum(1 for c in node.inputs if c is None)
        beyond = sum(1 for c in node.inputs if c == HIDDEN)
        note = f" · {skipped} input(s) without grad" if skipped else ""
        note += f" · {beyond} input(s) not drawn" if beyond else ""
        lines.append(f"{prefix}{branch}{mark}#{node_id} {node.title()} {shape}{note}")
        children = [c for c in node.inputs if c is not None and c != HIDDEN]
        child_prefix = prefix + ("" if top else ("   " if last else "│  "))
        for i, child in enumerate(children):
            draw(child, child_prefix, i == len(children) - 1, False)

    draw(graph.root, "", True, True)
    if graph.hidden:
        lines.append(f"… and {graph.hidden} more nodes not shown"
                     + (f"; their leaves: {', '.join(label for label, _ in graph.hidden_leaves)}"
                        if graph.hidden_leaves else ""))
    return lines


def destination(graph: Graph, node, i: int) -> str:
    """Where a node's i-th gradient goes: the input node, and which of its outputs that is when it
    has several (split, unbind, max(dim)), with that output's shape."""
    target = node.inputs[i] if i < len(node.inputs) else None
    if target is None:
        return "(input without grad)"
    if target == HIDDEN:
        return "(a node not drawn)"
    child = graph.node(target)
    nr = node.feeds[i] if i < len(node.feeds) else 0
    where = f" [{child.output_of(nr)}]" if len(child.outputs) > 1 else ""
    return f"#{target} {child.title()}{where}"


def walk_lines(rec: Recording) -> list[str]:
    """Each step of backward, then each leaf's final .grad as torch prints it."""
    lines = ["Graph (from the loss down to the leaves):", *("  " + ln for ln in graph_lines(rec.graph)), ""]
    for step in rec.steps:
        node = rec.graph.node(step.node)
        pass_note = f" (backward pass {step.backward_pass})" if rec.steps[-1].backward_pass > 1 else ""
        lines.append(f"Step {step.index + 1}/{len(rec.steps)}{pass_note}: #{node.id} {node.title()}")
        incoming = ", ".join(g.value if g is not None else "None" for g in step.grad_in)
        lines.append(f"  gradient in:  {incoming}")
        for i, g in enumerate(step.grad_out):
            lines.append(f"  to {destination(rec.graph, node, i)}: {g.value if g is not None else 'None'}")
        for ln in step.formula.splitlines():
            lines.append(f"  {ln}")
    lines.append("")
    for name, grad in rec.leaf_grads.items():
        lines.append(f"{name}.grad = {grad!r}")
    return lines
