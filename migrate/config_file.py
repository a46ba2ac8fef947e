"""Reading `migrate.toml`: every value checked against its declared setting, every error naming
the file and line (exit 2), secrets refused, and relative paths taken relative to the file's
own folder. The settings themselves are declared in migrate/setup/settings.py."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from migrate.errors import ConfigError
from migrate.setup.settings import ALL_SETTINGS, BY_KEY, SECTIONS, coerce, expected


def _key_line(text: str, section: str | None, name: str) -> int | None:
    """The line where `name =` is set inside [section], for pointing at it in an error."""
    current: str | None = None
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        header = re.match(r"^\[([^\[\]]+)\]", stripped)
        if header:
            current = header.group(1).strip()
            continue
        if current == section and re.match(rf"^\"?{re.escape(name)}\"?\s*=", stripped):
            return number
    return None


def _where(path: Path, text: str, section: str | None, name: str) -> str:
    line = _key_line(text, section, name)
    return f"{path}:{line}" if line else str(path)


def _read_file(path: Path) -> tuple[dict[str, Any], str]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file",
                          hint="run `migrate init` to write one, or fix --config") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read it ({exc})") from None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}",
                          hint="fix the line it names; `migrate init --force` rewrites a fresh file") from None


def values_from_file(path: Path) -> tuple[dict[str, Any], dict[str, str]]:
    """The file's settings, and where each was written (`file:line`, for every later error)."""
    data, text = _read_file(path)
    values: dict[str, Any] = {}
    wheres: dict[str, str] = {}

    def take(section: str | None, name: str, raw: Any) -> None:
        key = f"{section}.{name}" if section else name
        info = BY_KEY.get(key)
        where = _where(path, text, section, name)
        if info is None:
            known = ", ".join(s.name for s in ALL_SETTINGS if s.section == section)
            scope = f"[{section}]" if section else "the top level"
            raise ConfigError(f"{where}: unknown setting {key!r}",
                              hint=f"settings of {scope}: {known}")
        if info.secret:
            raise ConfigError(f"{where}: {key} is a secret and is never read from a file",
                              hint=f"remove it and set {info.env} in the environment")
        value = coerce(info, raw, from_env=False)
        if value is None:
            raise ConfigError(f"{where}: {key} must be {expected(info)}, got {raw!r}")
        if key in PATH_KEYS and value:
            value = str(beside(path, value))
        values[key] = value
        wheres[key] = where

    for name, raw in data.items():
        if name == "workspaces":
            from migrate.grid.workspaces import parse_workspaces

            values["workspaces"] = parse_workspaces(raw, path, text)
            continue
        if name not in SECTIONS and isinstance(raw, dict):
            line = _section_line(text, name)
            raise ConfigError(f"{path}:{line}: unknown section [{name}]" if line else
                              f"{path}: unknown section [{name}]",
                              hint="sections: " + ", ".join(f"[{n}]" for n in SECTIONS)
                              + "; top-level settings: " + ", ".join(
                                  s.name for s in ALL_SETTINGS if s.section is None))
        if name in SECTIONS:
            if not isinstance(raw, dict):
                raise ConfigError(f"{_where(path, text, None, name)}: {name} must be a table "
                                  f"([{name}]), got {raw!r}")
            for sub, sub_raw in raw.items():
                take(name, sub, sub_raw)
        else:
            take(None, name, raw)
    return values, wheres


def _section_line(text: str, name: str) -> int | None:
    for number, line in enumerate(text.splitlines(), start=1):
        if re.match(rf"^\[\s*\"?{re.escape(name)}\"?\s*\]", line.strip()):
            return number
    return None


# Settings that name files or folders: written relative in migrate.toml, they are relative to
# the file's own folder, so `migrate --config elsewhere/migrate.toml` finds the same state and
# overrides from any directory (environment and flags stay relative to the current one).
PATH_KEYS = frozenset({"workdir", "plan.user_map", "plan.channel_map", "plan.reactions_file",
                       "plan.emoji_file", "plan.system_events_file", "graph.client_cert",
                       "graph.client_assertion_file"})


def beside(config: Path, value: str) -> Path:
    target = Path(value).expanduser()
    return target if target.is_absolute() else (config.resolve().parent / target)
