"""Which teams an export covers: include/exclude by name glob or id (settings.export)."""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence


def _matches(team_id: str, name: str, patterns: Sequence[str]) -> bool:
    name = (name or "").casefold()
    return any(p == team_id or fnmatch.fnmatchcase(name, p.casefold()) for p in patterns)


def team_in_scope(team_id: str, name: str, include: Sequence[str], exclude: Sequence[str]) -> bool:
    if include and not _matches(team_id, name, include):
        return False
    return not _matches(team_id, name, exclude)
