"""Rules the tests themselves keep: no fixed pause before an assert. A pause that was long enough on
an idle machine is too short under load (a footer read 0.3 s after start-up failed 2 runs of 2 on a
busy one); a test waits for the condition it asserts instead (tests.helpers.wait_for, shows, the
kernel driver's wait_for, a polling loop with a deadline)."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).parent

# (file, the sleep or pause's line as written, stripped): why it stays. By text, not line number, so
# that edits above it do not move it off the list.
ALLOWED: dict[tuple[str, str], str] = {
    ("test_screen_training.py", "await pilot.pause(0.5)  # redraw ticks come and go: the verdict stays"):
        "the test is about the diverged verdict surviving the redraw ticks after the run: the pause lets "
        "ticks pass, and there is no condition to wait for (the verdict is already shown before it)",
}


def _flagged(path: Path) -> list[tuple[int, str]]:
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    return [(n, lines[n - 1].strip()) for n in sleeps_before_asserts(source)]


def _duration(call: ast.Call) -> float | None:
    """The positive literal number of seconds a sleep(...) or pause(...) call waits, else None."""
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    if name not in ("sleep", "pause"):
        return None
    args = [*call.args, *(k.value for k in call.keywords if k.arg in ("delay", "seconds", "secs"))]
    if not args or not isinstance(args[0], ast.Constant):
        return None
    value = args[0].value
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return None
    return float(value)


def _timed_wait(stmt: ast.stmt) -> float | None:
    """The seconds of `sleep(n)` / `await pilot.pause(n)` when the statement is just that."""
    if not isinstance(stmt, ast.Expr):
        return None
    value = stmt.value.value if isinstance(stmt.value, ast.Await) else stmt.value
    return _duration(value) if isinstance(value, ast.Call) else None


def _a_read(stmt: ast.stmt) -> bool:
    """`name = expression` with nothing awaited: looking at the app, not acting on it."""
    return isinstance(stmt, ast.Assign | ast.AnnAssign) and not any(
        isinstance(node, ast.Await) for node in ast.walk(stmt))


def sleeps_before_asserts(source: str) -> list[int]:
    """Lines of a fixed sleep or pause whose next statement in the same block is an assert, or
    plain reads (`footer = screen.query_one(...)`) and then an assert."""
    found = []
    for node in ast.walk(ast.parse(source)):
        for field in ("body", "orelse", "finalbody"):
            block = getattr(node, field, None)
            if not isinstance(block, list):
                continue
            for i, stmt in enumerate(block):
                if not isinstance(stmt, ast.stmt) or _timed_wait(stmt) is None:
                    continue
                rest = iter(block[i + 1:])
                after = next(rest, None)
                while after is not None and _a_read(after):
                    after = next(rest, None)
                if isinstance(after, ast.Assert):
                    found.append(stmt.lineno)
    return sorted(found)


def test_the_rule_finds_a_pause_or_sleep_then_an_assert_and_nothing_else():
    flagged = sleeps_before_asserts(
        "async def t(pilot):\n"
        "    await pilot.pause(0.3)\n"  # 2: flagged
        "    assert x\n"
        "    time.sleep(1)\n"  # 4: flagged
        "    assert y\n"
        "    await pilot.pause()\n"  # one refresh: not a fixed duration
        "    assert z\n"
        "    clock.sleep(0.5)\n"  # followed by an action, not an assert
        "    kernel.request('x')\n"
        "    while not done():\n"
        "        time.sleep(0.1)\n"  # a polling loop's step
        "    assert done()\n"
        "    await asyncio.sleep(delay=0.2)\n"  # 13: flagged
        "    assert w\n"
        "    run('import time; time.sleep(0.5)')\n"  # a cell's source, not the test's own sleep
        "    assert v\n"
        "    await pilot.pause(0.3)\n"  # 17: flagged, reads before the assert
        "    footer = app.screen.query_one('Footer')\n"
        "    keys = [w for w in footer.children]\n"
        "    assert keys\n"
        "    await pilot.pause(0.3)\n"  # an awaited step between: not flagged
        "    done = await app.kernel.request('x')\n"
        "    assert done\n")
    assert flagged == [2, 4, 13, 17]


def test_no_test_pauses_a_fixed_time_and_then_asserts():
    found = []
    for path in sorted(TESTS.rglob("*.py")):
        for line, written in _flagged(path):
            if (path.name, written) not in ALLOWED:
                found.append(f"{path.relative_to(TESTS.parent)}:{line}: {written}")
    assert not found, ("a fixed sleep or pause before an assert: wait for the asserted condition instead "
                       "(tests.helpers.wait_for / shows, KernelDriver.wait_for, a loop with a deadline):\n"
                       + "\n".join(found))


def test_every_allowed_pause_is_still_there():
    stale = [f"{name}: {written}" for name, written in ALLOWED
             if written not in {text for _, text in _flagged(TESTS / name)}]
    assert not stale, stale
