"""The recorded backward walk as plain text, in either language, for the Autograd screen,
`torchtui grad`, %grad and scripts."""

from __future__ import annotations

from engine.autograd import HIDDEN, Graph, Recording
from engine.i18n import counted, text
from engine.tensors import shape_text


def graph_lines(graph: Graph, current: int | None = None, lang: str = "en") -> list[str]:
    """The graph from the root down to the leaves, one node a line; a node reached twice is
    drawn once and referred to by its number afterwards."""
    lines: list[str] = []
    drawn: set[int] = set()

    def draw(node_id: int, prefix: str, last: bool, top: bool) -> None:
        node = graph.node(node_id)
        branch = "" if top else ("└─ " if last else "├─ ")
        mark = "▶ " if node_id == current else ""
        shape = shape_text(node.shape) if len(node.outputs) <= 1 else \
            text("graph.outputs", lang, shapes=", ".join(shape_text(o) for o in node.outputs))
        if node_id in drawn:
            lines.append(f"{prefix}{branch}{mark}#{node_id} {node.title()} {text('graph.see_above', lang)}")
            return
        drawn.add(node_id)
        skipped = sum(1 for c in node.inputs if c is None)
        beyond = sum(1 for c in node.inputs if c == HIDDEN)
        note = " · " + text("graph.without_grad" + ("_one" if skipped == 1 else ""), lang, n=skipped) if skipped else ""
        note += " · " + text("graph.not_drawn" + ("_one" if beyond == 1 else ""), lang, n=beyond) if beyond else ""
        lines.append(f"{prefix}{branch}{mark}#{node_id} {node.title()} {shape}{note}")
        children = [c for c in node.inputs if c is not None and c != HIDDEN]
        child_prefix = prefix + ("" if top else ("   " if last else "│  "))
        for i, child in enumerate(children):
            draw(child, child_prefix, i == len(children) - 1, False)

    draw(graph.root, "", True, True)
    if graph.hidden:
        leaves = ", ".join(label for label, _ in graph.hidden_leaves)
        lines.append(text(counted("graph.more_leaves" if leaves else "graph.more", graph.hidden), lang, n=graph.hidden, leaves=leaves))
    return lines


def destination(graph: Graph, node, i: int, lang: str = "en") -> str:
    """Where a node's i-th gradient goes: the input node, and which of its outputs that is when it
    has several (split, unbind, max(dim)), with that output's shape."""
    target = node.inputs[i] if i < len(node.inputs) else None
    if target is None:
        return text("graph.to_no_grad", lang)
    if target == HIDDEN:
        return text("graph.to_hidden", lang)
    child = graph.node(target)
    nr = node.feeds[i] if i < len(node.feeds) else 0
    where = f" [{child.output_of(nr, lang)}]" if len(child.outputs) > 1 else ""
    return f"#{target} {child.title()}{where}"


def walk_lines(rec: Recording, lang: str = "en") -> list[str]:
    """Each step of backward, then what it would add to each leaf's .grad, as torch prints it."""
    lines = [text("walk.graph", lang), *("  " + ln for ln in graph_lines(rec.graph, None, lang)), ""]
    for step in rec.steps:
        node = rec.graph.node(step.node)
        pass_note = " " + text("walk.pass", lang, n=step.backward_pass) if rec.steps[-1].backward_pass > 1 else ""
        lines.append(text("walk.step", lang, n=step.index + 1, total=len(rec.steps), note=pass_note,
                          node=f"#{node.id} {node.title()}"))
        incoming = ", ".join(g.value if g is not None else "None" for g in step.grad_in)
        lines.append("  " + text("walk.in", lang, values=incoming))
        for i, g in enumerate(step.grad_out):
            lines.append("  " + text("walk.to", lang, dest=destination(rec.graph, node, i, lang),
                                     value=g.value if g is not None else "None"))
        for ln in step.formula.words(lang).splitlines():
            lines.append(f"  {ln}")
    lines.append("")
    passes = rec.steps[-1].backward_pass if rec.steps else 1
    # what backward() would add, not an assignment: the inspector leaves every .grad as it was
    lines.append(text("walk.results_passes", lang, n=passes) if passes > 1 else text("walk.results", lang))
    for name, grad in rec.leaf_grads.items():
        lines.append("  " + text("walk.result", lang, name=name, value=repr(grad)))
    return lines
