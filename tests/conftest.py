import os

import pytest


@pytest.fixture(autouse=True)
def private_dirs(tmp_path, monkeypatch):
    """Every test gets its own state and config folders, never the user's."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    os.environ.pop("NO_COLOR", None)
    yield


@pytest.fixture(scope="module")
def kernel():
    """A Playground kernel with torch loaded, shared by the tests of one module."""
    from engine.repl import Kernel

    k = Kernel()
    assert k.ready.wait(60)
    yield k
    k.shutdown()
