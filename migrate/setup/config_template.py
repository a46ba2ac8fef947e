"""The commented migrate.toml that `migrate init` writes, generated from the declarations.

Every setting appears with what it does, its default and the environment variable that
overrides it; values stay commented out so the file means "defaults" until the admin edits it.
"""

from __future__ import annotations

import json
from typing import Any

from migrate.config import ALL_SETTINGS, SECTIONS, SettingInfo


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(json.dumps(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
    return json.dumps(value, ensure_ascii=False)


def _block(info: SettingInfo, set_values: dict[str, Any]) -> list[str]:
    lines = [f"# {info.help}"]
    if info.choices:
        lines.append(f"# One of: {', '.join(info.choices)}.")
    if info.secret:
        lines.append(f"# Secret: set {info.env} in the environment; it is never read from this file.")
        return lines
    if info.env:
        lines.append(f"# Environment: {info.env}")
    if info.key in set_values:
        lines.append(f"{info.name} = {_toml_value(set_values[info.key])}")
    else:
        lines.append(f"# {info.name} = {_toml_value(info.default)}")
    return lines


def render_config(set_values: dict[str, Any] | None = None) -> str:
    """A complete, commented migrate.toml; `set_values` (by key) are written uncommented."""
    set_values = set_values or {}
    out = [
        "# migrate.toml — settings of `migrate` (Microsoft Teams → Slack).",
        "# Precedence: command-line flag > environment variable > this file > default.",
        "# Secrets (client secret, tokens) are read from the environment only.",
        "",
    ]
    for info in (s for s in ALL_SETTINGS if s.section is None):
        out += _block(info, set_values) + [""]
    for section in SECTIONS:
        out.append(f"[{section}]")
        for info in (s for s in ALL_SETTINGS if s.section == section):
            out += _block(info, set_values) + [""]
    return "\n".join(out).rstrip() + "\n"
