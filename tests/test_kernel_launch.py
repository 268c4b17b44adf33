"""Where the app's kernel files go, and what is swept away of apps that are gone."""

from __future__ import annotations

import subprocess
import sys
import tempfile

import pytest

from tui.kernel import launch


@pytest.mark.slow  # (two short processes stand for the apps)
def test_the_empty_folder_of_an_app_still_starting_is_left_alone_and_a_gone_apps_is_swept(tmp_path, monkeypatch):
    """Two apps starting at once: the one that sweeps must not take the other's folder, made and
    still empty, from under its kernel (which then failed to write its connection file)."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    living = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    try:
        starting = tmp_path / f"torchtui-{living.pid}-abc"
        starting.mkdir()
        left = tmp_path / f"torchtui-{gone.pid}-def"
        left.mkdir()
        (left / f"kernel-{gone.pid}-1a2b3c.json").write_text("{}")
        launch.sweep_stale_temp_folders()
        assert starting.is_dir()
        assert not left.exists()
    finally:
        living.kill()
        living.wait()
