import os

from engine import config, paths
from tui import i18n


def test_state_dir_is_private(tmp_path):
    d = paths.state_dir()
    assert d.is_dir() and (os.stat(d).st_mode & 0o777) == 0o700
    f = paths.write_private(d / "x" / "file.txt", "hi")
    assert (os.stat(f).st_mode & 0o777) == 0o600 and (os.stat(f.parent).st_mode & 0o777) == 0o700


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


def test_language_from_locale():
    assert i18n.language_from_locale({"LANG": "zh_CN.UTF-8"}) == "zh"
    assert i18n.language_from_locale({"LC_ALL": "en_US.UTF-8", "LANG": "zh_CN.UTF-8"}) == "en"
    assert i18n.language_from_locale({"LC_MESSAGES": "zh_TW"}) == "zh"
    assert i18n.language_from_locale({}) == "en"


def test_corrupt_config_gives_warning_not_crash(tmp_path, monkeypatch):
    import subprocess
    import sys

    cfg_dir = tmp_path / "config" / "torchtui"
    cfg_dir.mkdir(parents=True)
    (cfg_dir / "config.toml").write_text("this is = = not toml")
    out = subprocess.run([sys.executable, "-m", "tui", "grad"], capture_output=True, text=True,
                         env={**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config")})
    assert out.returncode == 0 and "Traceback" not in out.stderr


def test_plot_lines_with_chinese_keep_their_width():
    from rich.cells import cell_len
    from rich.text import Text

    from tui.widgets.plots import narrow_text

    line = Text.from_ansi("│ ▞▞ \x1b[31m本次\x1b[0m        │")
    fixed = narrow_text(line)
    assert cell_len(fixed.plain) == len(line.plain)  # as wide on screen as plotext meant it
    assert fixed.plain == "│ ▞▞ 本次      │"
    assert [(s.start, s.end, str(s.style)) for s in fixed.spans] == [(5, 7, "color(1)")]  # styles kept
    assert narrow_text(Text("│ plain ascii │")).plain == "│ plain ascii │"


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
