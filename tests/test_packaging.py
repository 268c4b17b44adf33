"""pyproject.toml against the code: every third-party module engine/ and tui/ import is declared."""

from __future__ import annotations

import ast
import re
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIRST_PARTY = {"engine", "tui"}

if sys.version_info >= (3, 11):
    import tomllib
else:  # (declared for Python 3.10 in pyproject)
    import tomli as tomllib


def normalized(name: str) -> str:
    """A distribution's name as PEP 503 compares them."""
    return re.sub(r"[-_.]+", "-", name).lower()


def imported_modules() -> dict[str, set[str]]:
    """Top-level third-party modules imported anywhere in engine/ and tui/ -> the files that do."""
    found: dict[str, set[str]] = {}
    for package in sorted(FIRST_PARTY):
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.partition(".")[0]
                    if top not in sys.stdlib_module_names and top not in FIRST_PARTY:
                        found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


def declared_distributions() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return {normalized(re.match(r"[A-Za-z0-9._-]+", requirement).group()) for requirement in project["dependencies"]}


def test_every_third_party_module_the_code_imports_is_a_declared_dependency():
    distributions = packages_distributions()  # import name -> the installed distributions giving it
    declared = declared_distributions()
    modules = imported_modules()
    assert {"torch", "textual", "IPython"} <= set(modules)  # (the scan sees the imports)
    missing = {}
    for module, files in sorted(modules.items()):
        # a module not installed here (tomli on Python 3.11+) is named as its distribution
        names = {normalized(d) for d in distributions.get(module, [module])}
        if not names & declared:
            missing[module] = sorted(files)
    assert not missing, f"imported but not in pyproject's dependencies: {missing}"
