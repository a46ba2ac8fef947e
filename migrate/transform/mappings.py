"""The mapping data of the content transform: reactions, emoji and system-event names.

Defaults are the TOML files of the `mappings/` folder, installed as the package
`migrate.mappings`. An admin overrides any of them with a file of the same shape (flat
`key = "value"` pairs); an override's keys replace the defaults' keys, the rest stay.
A malformed file is a ConfigError that names file:line and what is wrong.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from functools import cache
from importlib.resources import files
from pathlib import Path
from types import MappingProxyType

from migrate.errors import ConfigError

KINDS = ("reactions", "emoji", "system_events")
# Slack emoji short names: lowercase letters, digits and _ + - ' (written without colons).
SHORT_NAME = re.compile(r"[a-z0-9_+'\-]+")
_TOML_POSITION = re.compile(r"\(at line (\d+), column (\d+)\)")
_HINT = "fix the file or remove it from migrate.toml ([plan] reactions_file / emoji_file / system_events_file)"


def _line_of(text: str, key: str) -> int:
    """The line where `key` is defined (tomllib gives no positions for values)."""
    candidates = (f'"{key}"', f"'{key}'", key)
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.lstrip()
        if stripped.lstrip("[").lstrip().startswith(candidates) and stripped.startswith("["):
            return number
        for candidate in candidates:
            if stripped.startswith(candidate) and stripped[len(candidate):].lstrip().startswith(("=", ".")):
                return number
    return 1


def parse_mapping(text: str, origin: str, kind: str) -> dict[str, str]:
    """Parse and check one mapping file's text; `origin` names it in errors."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = _TOML_POSITION.search(message)
        line = getattr(exc, "lineno", None) or (int(match.group(1)) if match else 1)
        what = _TOML_POSITION.sub("", message).strip() or "invalid TOML"
        raise ConfigError(f"{origin}:{line}: {what}", hint=_HINT) from None
    out: dict[str, str] = {}
    for key, value in data.items():
        where = f"{origin}:{_line_of(text, key)}"
        if not isinstance(value, str):
            got = "a table" if isinstance(value, dict) else type(value).__name__
            raise ConfigError(f"{where}: {key!r} must be a string, not {got}", hint=_HINT)
        value = value.strip()
        if kind == "system_events":
            if not value:
                raise ConfigError(f"{where}: {key!r} needs a description", hint=_HINT)
        else:
            value = value.strip(":")
            if not SHORT_NAME.fullmatch(value):
                raise ConfigError(
                    f"{where}: {key!r} = {value!r} is not a Slack emoji short name "
                    "(lowercase letters, digits, _ + - ', without colons)", hint=_HINT)
        out[key] = value
    return out


@cache
def default_mapping(kind: str) -> Mapping[str, str]:
    """The packaged default of one mapping (read once, read-only)."""
    if kind not in KINDS:
        raise ValueError(f"unknown mapping {kind!r}")
    resource = files("migrate.mappings").joinpath(f"{kind}.toml")
    return MappingProxyType(parse_mapping(resource.read_text(encoding="utf-8"),
                                          f"mappings/{kind}.toml", kind))


def _with_override(kind: str, override: str | None) -> dict[str, str]:
    merged = dict(default_mapping(kind))
    if override:
        path = Path(override)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read the {kind} mapping ({exc.strerror or exc})",
                              hint=_HINT) from None
        except UnicodeDecodeError:
            raise ConfigError(f"{path}:1: not UTF-8 text", hint=_HINT) from None
        merged.update(parse_mapping(text, str(path), kind))
    return merged


def load_mappings(reactions_file: str | None = None, emoji_file: str | None = None,
                  system_events_file: str | None = None) -> tuple[dict, dict, dict]:
    """(reactions, emoji, system_events): the packaged defaults, each overridden by its file."""
    return (_with_override("reactions", reactions_file), _with_override("emoji", emoji_file),
            _with_override("system_events", system_events_file))
