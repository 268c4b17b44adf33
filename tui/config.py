"""The optional user config file ($XDG_CONFIG_HOME/torchtui/config.toml), read defensively."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from engine import paths
from engine.i18n import LANGUAGES, Said, said

MAX_BYTES = 1 << 20  # a config file is a few lines; anything bigger is not one


@dataclass(frozen=True)
class Config:
    """The user's preferences, with any problems found while reading them."""

    device: str = "auto"
    theme: str = "textual-dark"
    language: str | None = None
    keys: dict[str, str] = field(default_factory=dict)  # [keys]: binding id -> keys ("ctrl+k" or "f10,ctrl+k")
    warnings: tuple[Said, ...] = field(default=())


def load(path: Path | None = None) -> Config:
    """Read the config file; a missing file gives defaults, a broken one defaults plus a warning."""
    path = path or paths.config_file()
    try:  # a regular file only (a FIFO would hang the start, /dev/zero fill the memory)
        raw = paths.read_regular(path, MAX_BYTES)
    except FileNotFoundError:
        return Config()
    except OSError as exc:
        return Config(warnings=(said("warn.config.unreadable", path=str(path), error=exc.strerror or str(exc)),))
    # imported only when there is a file to read: most starts have none, and each ms counts there
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        return Config(warnings=(said("warn.config.toml", path=str(path), error=str(exc)),))
    except RecursionError:  # arrays nested thousands deep
        return Config(warnings=(said("warn.config.deep", path=str(path)),))
    warnings: list[Said] = []
    values: dict[str, str] = {}
    for key, allowed in (("device", None), ("theme", None), ("language", LANGUAGES)):
        if key not in data:
            continue
        value = data[key]
        if not isinstance(value, str) or (allowed and value not in allowed):
            if allowed:
                warnings.append(said("warn.config.choose", path=str(path), key=key, choices=", ".join(allowed),
                                     value=repr(value)))
            else:
                warnings.append(said("warn.config.string", path=str(path), key=key, value=repr(value)))
            continue
        values[key] = value
    keys = read_keys(data.get("keys", {}), path, warnings)
    unknown = sorted(set(data) - {"device", "theme", "language", "keys"})
    if unknown:
        warnings.append(said("warn.config.unknown", path=str(path), keys=", ".join(unknown)))
    return Config(**values, keys=keys, warnings=tuple(warnings))


KEY_NAME = re.compile(r"^[^\s,]+$")  # one key as Textual names it: "f10", "ctrl+k", "question_mark", "x"


def read_keys(table: object, path: Path, warnings: list[Said]) -> dict[str, str]:
    """The [keys] table: each binding id (as F1 lists them) to the keys that run it, several
    separated by commas. Whether an id exists is tui.keymap's to say, after the first frame: it needs
    every class with keys, and importing them all here would slow the start."""
    if not isinstance(table, dict):
        warnings.append(said("warn.config.keys_table", path=str(path), value=repr(table)))
        return {}
    keys: dict[str, str] = {}
    for binding_id, value in table.items():
        names = [k.strip() for k in value.split(",")] if isinstance(value, str) else []
        if not names or not all(KEY_NAME.match(k) for k in names):
            warnings.append(said("warn.config.key_value", path=str(path), id=binding_id, value=repr(value)))
            continue
        keys[binding_id] = ",".join(names)
    return keys
