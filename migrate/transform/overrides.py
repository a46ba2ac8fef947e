"""Override files: CSVs an admin writes to decide what matching and naming would otherwise
decide. `read_override_rows` reads any of them (header checked, `#` comments and blank lines
skipped, every error naming file:line, exit 2); `load_user_overrides` reads the people file
(`teams_user,slack_user`). The channel file is read in channels.py with the same reader."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from migrate.errors import ConfigError

OVERRIDE_HEADER = ("teams_user", "slack_user")
SLACK_USER_ID = re.compile(r"^[UW][A-Z0-9]+$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


@dataclass(frozen=True)
class UserOverride:
    teams_user: str             # a Teams user id, or one of the user's addresses
    slack_user: str | None      # a Slack user id or email; None = skip
    source: str = ""            # "file:line", for messages

    @property
    def skip(self) -> bool:
        return self.slack_user is None


def read_override_rows(path: str | Path, header: tuple[str, ...]) -> list[tuple[str, list[str]]]:
    """Rows of an override CSV as ("file:line", cells): the header checked, blank lines and
    lines starting with `#` skipped, cells stripped, trailing empty cells dropped."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(f"{path}: override file not found",
                          hint=f"create it with the header line {','.join(header)}, or unset "
                          "the setting that names it") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the override file ({exc})") from None
    reader = csv.reader(text.splitlines(keepends=True))
    rows: list[tuple[str, list[str]]] = []
    seen_header = False
    try:
        for cells in reader:
            where = f"{path}:{reader.line_num}"
            cells = [c.strip() for c in cells]
            while cells and not cells[-1]:
                cells.pop()
            if not cells or cells[0].startswith("#"):
                continue
            if not seen_header:
                if tuple(c.lower() for c in cells) != header:
                    raise ConfigError(f"{where}: the header must be {','.join(header)} "
                                      f"(found {','.join(cells)})")
                seen_header = True
                continue
            if len(cells) > len(header):
                raise ConfigError(f"{where}: expected {len(header)} columns "
                                  f"({','.join(header)}), found {len(cells)}",
                                  hint="quote a value that contains a comma")
            rows.append((where, cells + [""] * (len(header) - len(cells))))
    except csv.Error as exc:
        raise ConfigError(f"{path}:{reader.line_num}: not valid CSV ({exc})") from None
    if not seen_header:
        raise ConfigError(f"{path}: empty override file",
                          hint=f"the first line must be the header {','.join(header)}")
    return rows


def load_user_overrides(path: str | Path) -> list[UserOverride]:
    """Read a `teams_user,slack_user` CSV. Malformed → ConfigError naming file:line (exit 2).
    Whether the ids exist is checked by map_users, which reports rather than fails."""
    out: list[UserOverride] = []
    first_line: dict[str, str] = {}
    for where, (teams_user, slack_user) in read_override_rows(path, OVERRIDE_HEADER):
        if not teams_user:
            raise ConfigError(f"{where}: teams_user is empty (a Teams user id or email)")
        if not (_GUID.match(teams_user) or _EMAIL.match(teams_user)):
            raise ConfigError(f"{where}: teams_user {teams_user!r} is neither a Teams user id "
                              "(a GUID) nor an email")
        if not slack_user:
            raise ConfigError(f"{where}: slack_user is empty (a Slack user id, an email, or skip)")
        key = teams_user.lower()
        if key in first_line:
            raise ConfigError(f"{where}: {teams_user} already has an override at {first_line[key]}")
        first_line[key] = where
        if slack_user.lower() == "skip":
            out.append(UserOverride(teams_user, None, where))
        elif SLACK_USER_ID.match(slack_user) or _EMAIL.match(slack_user):
            out.append(UserOverride(teams_user, slack_user, where))
        else:
            raise ConfigError(f"{where}: slack_user {slack_user!r} is not a Slack user id "
                              "(U… or W…), an email, or skip")
    return out
