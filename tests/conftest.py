import os

import pytest

# One OpenMP thread per process: the suite runs two workers per core, and each worker's kernels and
# command-line runs are processes of their own; torch's default (a thread per core, spinning while
# it waits) has those threads spin against each other. Measured on two cores: the tour and CLI
# tests took 148 s with the default and 111 s with one thread. Set before torch is imported, so the
# processes the tests start inherit it.
os.environ.setdefault("OMP_NUM_THREADS", "1")
# Training at the suite's own priority: with two workers per core every core is busy at nice 0, and
# a run niced by 10 (the app's default, to keep typing quick) got a few percent of a core; a
# two-process run that takes 15 s alone went past its 3 minutes in a loaded run of the suite.
os.environ.setdefault("TORCHTUI_TRAINING_NICENESS", "0")


@pytest.fixture(autouse=True)
def private_dirs(tmp_path, monkeypatch):
    """Every test gets its own state and config folders, never the user's."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    os.environ.pop("NO_COLOR", None)
    yield
    # An app started in Chinese sets the language of the whole process (what the engine words in
    # it too): the next test starts in English, whatever this one chose.
    from tui.i18n import set_language

    set_language("en")


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    """A kernel started as the app starts it, shared by the tests of one module."""
    from kernel_driver import KernelDriver

    state = tmp_path_factory.mktemp("kernel-state")
    old = os.environ.get("XDG_STATE_HOME")
    os.environ["XDG_STATE_HOME"] = str(state)
    try:
        driver = KernelDriver()
    finally:
        if old is None:
            os.environ.pop("XDG_STATE_HOME", None)
        else:
            os.environ["XDG_STATE_HOME"] = old
    yield driver
    driver.close()


def pytest_xdist_auto_num_workers(config):
    """`-n auto`: two workers per core. Most slow tests spend much of their time waiting on another
    process (a kernel starting, a rank joining its group, the app in tmux drawing), and a second
    worker per core fills those waits: on two cores the whole suite took 7 min 41 s on two workers
    and 6 min 7 s on four (`python -m pytest -q -m "" -n 2`, then `-n 4`, one after the other)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return 2 * cores


@pytest.hookimpl(tryfirst=True)  # (before pytest-xdist reads the groups)
def pytest_collection_modifyitems(config, items):
    """The slow tests (kernel processes, the app in a terminal, training ranks) first, each
    group in its files' order: on several workers (`-n auto`) the long ones then start at once
    and the quick ones fill in at the end, instead of one long test starting last.

    The tests of a module that share its kernel go to one worker (`--dist loadgroup`, in
    pyproject's addopts): split between two, each would start a kernel of its own."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
    for item in items:
        if "kernel" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group(item.module.__name__))
