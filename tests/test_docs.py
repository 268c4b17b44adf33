"""README.md against what it describes: the install lines Learn gives too."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def readme_section(title: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end != -1 else None]


def test_the_install_section_gives_a_cpu_only_line_the_same_as_learns_first_chapter():
    install = readme_section("Install and run")
    tour = json.loads((ROOT / "engine" / "lessons" / "tour.json").read_text(encoding="utf-8"))
    shell = [line for chapter in tour["chapters"] for line in chapter.get("shell", [])]
    cpu = next(line for line in shell if line.endswith("/whl/cpu"))
    commands = re.findall(r"^python3 -m venv .*$", install, re.MULTILINE)
    assert any(" pip install . " in c and cpu not in c for c in commands), commands  # the default line stays
    # the CPU-only one installs PyTorch's CPU build first, as Learn shows it, then torchtui
    assert any(f"{cpu} && pip install . " in c for c in commands), commands
