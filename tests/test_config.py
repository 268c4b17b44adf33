"""tui/config.py: the config file, read defensively."""

from __future__ import annotations

from engine.tour import Progress
from tui import config
from tui.history import History


def test_config_missing_good_and_corrupt(tmp_path):
    assert config.load(tmp_path / "none.toml") == config.Config()
    good = tmp_path / "good.toml"
    good.write_text('device = "cpu"\nlanguage = "zh"\ntheme = "nord"\n')
    cfg = config.load(good)
    assert (cfg.device, cfg.language, cfg.theme, cfg.warnings) == ("cpu", "zh", "nord", ())
    bad = tmp_path / "bad.toml"
    bad.write_text("device = [unclosed")
    cfg = config.load(bad)
    assert cfg.device == "auto" and "not valid TOML" in cfg.warnings[0].words()
    odd = tmp_path / "odd.toml"
    odd.write_text('language = "fr"\ncolour = 3\n')
    cfg = config.load(odd)
    assert cfg.language is None and len(cfg.warnings) == 2


def test_config_keys_table_is_read_and_bad_entries_are_said(tmp_path):
    good = tmp_path / "keys.toml"
    good.write_text('[keys]\n"app.help" = "f10"\n"pg.snippets" = "ctrl+k, f12"\n')
    cfg = config.load(good)
    assert cfg.keys == {"app.help": "f10", "pg.snippets": "ctrl+k,f12"} and cfg.warnings == ()
    bad = tmp_path / "bad_keys.toml"
    bad.write_text('[keys]\n"app.help" = 3\n"app.quit" = "ctrl q"\n"pg.clear" = "ctrl+l"\n')
    cfg = config.load(bad)
    assert cfg.keys == {"pg.clear": "ctrl+l"}
    assert [w.code for w in cfg.warnings] == ["warn.config.key_value", "warn.config.key_value"]
    assert "app.quit" in cfg.warnings[1].words() and "'ctrl q'" in cfg.warnings[1].words()
    flat = tmp_path / "flat.toml"
    flat.write_text('keys = "f1"\n')
    assert [w.code for w in config.load(flat).warnings] == ["warn.config.keys_table"]


def test_deeply_nested_files_give_a_warning_and_defaults(tmp_path):
    deep = "[" * 100_000
    (tmp_path / "history").write_text('{"t": 0, "src": "ok"}\n' + deep + "\n")
    history = History(tmp_path / "history")
    assert history.entries == ["ok"] and "unreadable" in history.take_warning()
    (tmp_path / "progress.json").write_text(deep)
    assert "could not be read" in Progress(tmp_path / "progress.json").warning
    (tmp_path / "config.toml").write_text("a = " + deep)
    loaded = config.load(tmp_path / "config.toml")
    assert loaded.device == config.Config().device and loaded.warnings
