"""The modules' imports form no circle: each module can be read, and imported, on its own terms."""

from __future__ import annotations

import grimp


def circles(graph) -> list[list[str]]:
    """Every group of modules that import each other, directly or not (Tarjan's strongly connected
    components, with more than one module)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for other in graph.find_modules_directly_imported_by(module):
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            group = []
            while True:
                other = stack.pop()
                group.append(other)
                if other == module:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def test_no_module_imports_itself_round_a_circle():
    # imports made for type checking only are left out: they never run
    graph = grimp.build_graph("engine", "tui", exclude_type_checking_imports=True)
    assert circles(graph) == []
