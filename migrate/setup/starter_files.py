"""What `migrate init` writes: a commented migrate.toml and empty override files."""

from __future__ import annotations

from pathlib import Path

from migrate.config import CONFIG_FILENAME
from migrate.errors import ConfigError
from migrate.setup.config_template import render_config

# Override files start with just their header row; the plan reads them when they exist.
OVERRIDE_FILES = {
    "mappings/users.csv": "teams_user,slack_user\n",
    "mappings/channels.csv": "teams_channel,action,slack_channel\n",
}


def write_starter_files(directory: Path, *, force: bool = False) -> list[Path]:
    """Write migrate.toml (and the override files it names) into `directory`."""
    directory = Path(directory)
    config = directory / CONFIG_FILENAME
    if config.exists() and not force:
        raise ConfigError(f"{config} already exists",
                          hint="pass --force to overwrite it, or edit it")
    written = []
    set_values = {"plan.user_map": "mappings/users.csv", "plan.channel_map": "mappings/channels.csv"}
    directory.mkdir(parents=True, exist_ok=True)
    config.write_text(render_config(set_values), encoding="utf-8")
    written.append(config)
    for relative, header in OVERRIDE_FILES.items():
        path = directory / relative
        if path.exists():
            continue  # never clobber an admin's mappings, even with --force
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(header, encoding="utf-8")
        written.append(path)
    return written
