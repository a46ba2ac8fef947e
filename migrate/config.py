"""Settings: `migrate.toml` + environment + flags, with precedence flag > env > file > default.

Every setting is declared once, in migrate/setup/settings.py (re-exported here, so the rest of
the package imports `Settings`, its sections and `load_settings` from this module); this module
loads them — the file (read by migrate/config_file.py), then the environment, then flags — and
checks the rules no single value's type can express. Secrets are only read from the
environment (or a file path it names): a secret written into migrate.toml is refused, not
silently used.
"""

from __future__ import annotations

import dataclasses
import os
import re
import zoneinfo
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from migrate.errors import ConfigError
from migrate.setup.settings import (
    ALL_SETTINGS,
    BY_KEY,
    CLOUDS,
    CONFIG_FILENAME,
    SECTIONS,
    ExportSettings,
    GraphSettings,
    PlanSettings,
    SettingInfo,
    Settings,
    SlackSettings,
    coerce,
    expected,
    setting,
)

__all__ = ["ALL_SETTINGS", "BY_KEY", "CLOUDS", "CONFIG_FILENAME", "SECTIONS", "ExportSettings",
           "GraphSettings", "PlanSettings", "SettingInfo", "Settings", "SlackSettings",
           "find_config", "load_settings", "setting"]


def _values_from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for info in ALL_SETTINGS:
        if not info.env or info.env not in environ:
            continue
        raw = environ[info.env]
        value = coerce(info, raw, from_env=True)
        if value is None:
            shown = "***" if info.secret else repr(raw)
            raise ConfigError(f"environment variable {info.env} ({info.key}) must be "
                              f"{expected(info)}, got {shown}")
        values[info.key] = value
    return values


def find_config(explicit: str | os.PathLike | None, environ: Mapping[str, str]) -> Path | None:
    """--config, else $MIGRATE_CONFIG, else ./migrate.toml when it exists."""
    if explicit:
        return Path(explicit)
    if environ.get("MIGRATE_CONFIG"):
        return Path(environ["MIGRATE_CONFIG"])
    candidate = Path.cwd() / CONFIG_FILENAME
    return candidate if candidate.exists() else None


def load_settings(
    config: str | os.PathLike | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    flags: Mapping[str, Any] | None = None,
) -> Settings:
    """Build Settings: defaults, then the file, then the environment, then flags (by key)."""
    environ = os.environ if environ is None else environ
    path = find_config(config, environ)
    merged: dict[str, Any] = {}
    sources: dict[str, str] = {}
    source = "defaults"
    workspaces: tuple = ()
    if path is not None:
        from migrate.config_file import beside, values_from_file

        from_file, wheres = values_from_file(path)
        workspaces = from_file.pop("workspaces", ())
        # The migration lives beside its config: the default workdir too.
        merged["workdir"] = str(beside(path, BY_KEY["workdir"].default))
        merged.update(from_file)
        sources.update(wheres)
        source = str(path)
    from_env = _values_from_env(environ)
    merged.update(from_env)
    sources.update({key: f"${BY_KEY[key].env}" for key in from_env})
    for key, raw in (flags or {}).items():
        if raw is None:
            continue
        info = BY_KEY[key]
        value = coerce(info, raw, from_env=isinstance(raw, str))
        if value is None:
            raise ConfigError(f"option for {key} must be {expected(info)}, got {raw!r}")
        merged[key] = value
        sources[key] = "command line"
    settings = _build(merged, source, sources)
    return _in_workspace(settings, workspaces, environ) if workspaces or settings.workspace \
        else settings


def _in_workspace(settings: Settings, workspaces: tuple, environ: Mapping[str, str]) -> Settings:
    """With [[workspaces]]: the settings as they are, to fan out to every workspace, or, with
    one chosen, that workspace's: its own working directory under ours, its token, its id."""
    from migrate.grid.workspaces import find

    settings = dataclasses.replace(settings, workspaces=workspaces)
    if not settings.workspace:
        return settings
    if not workspaces:
        raise ConfigError(f"--workspace {settings.workspace!r} was given but the config has no "
                          "[[workspaces]]", hint="list the target workspaces in migrate.toml")
    spec = find(workspaces, settings.workspace)
    token = environ.get(spec.token_env) or settings.slack.token
    slack = dataclasses.replace(settings.slack, token=token,
                                team_id=settings.slack.team_id or spec.team_id)
    workdir = str(settings.workdir_path / "workspaces" / spec.name)
    return dataclasses.replace(settings, slack=slack, workdir=workdir)


def _build(values: Mapping[str, Any], source: str, sources: dict[str, str] | None = None) -> Settings:
    sections = {
        name: cls(**{k.split(".", 1)[1]: v for k, v in values.items() if k.startswith(name + ".")})
        for name, cls in SECTIONS.items()
    }
    top = {k: v for k, v in values.items() if "." not in k}
    settings = Settings(**top, **sections, source=source, sources=dict(sources or {}))
    _check(settings)
    settings.shard_spec  # noqa: B018 - a malformed shard is a configuration error now
    return settings


def _check(settings: Settings) -> None:
    """Cross-field rules that a single value's type cannot express."""

    def fail(key: str, message: str, hint: str | None = None) -> None:
        origin = settings.sources.get(key, "default")
        raise ConfigError(f"{origin}: {key} {message}", hint=hint)

    for key in ("graph.rate_scale", "slack.rate_scale", "slack.post_cap_per_minute",
                "graph.timeout", "slack.timeout", "export.max_file_mb"):
        if settings.value(key) <= 0:
            fail(key, f"must be greater than 0, got {settings.value(key)}")
    if settings.export.full_directory_hours < 0:
        fail("export.full_directory_hours",
             f"must be 0 (every export reads it all) or more, got {settings.export.full_directory_hours:g}")
    if settings.export.overlap_hours < 24:
        # Teams' export data can surface up to a day late (an assumption; no documented
        # source is known for it): a shorter overlap would silently miss messages.
        fail("export.overlap_hours", f"must be at least 24, got {settings.export.overlap_hours:g}",
             "export data can appear up to a day late; 48 is the default")
    try:
        zoneinfo.ZoneInfo(settings.plan.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        fail("plan.timezone", f"is an unknown time zone {settings.plan.timezone!r}",
             "use an IANA name such as 'Europe/Paris' or 'UTC'")
    for key in ("graph.url", "slack.url", "graph.authority_url"):
        url = settings.value(key)
        if url and not re.match(r"^https?://[^/\s]+", url):
            fail(key, f"must be an http(s) URL, got {url!r}")
