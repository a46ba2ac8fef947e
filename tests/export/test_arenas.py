"""glibc's malloc arenas are capped before the export's threads start; elsewhere nothing is
done, and a MALLOC_ARENA_MAX the user set stands."""

from __future__ import annotations

import os

from migrate.export.arenas import cap_malloc_arenas


def _glibc() -> bool:
    try:
        return bool(os.confstr("CS_GNU_LIBC_VERSION"))
    except (AttributeError, ValueError, OSError):
        return False


def test_arenas_are_capped_on_glibc_only(monkeypatch):
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    assert cap_malloc_arenas() is _glibc()


def test_a_users_malloc_arena_max_stands(monkeypatch):
    monkeypatch.setenv("MALLOC_ARENA_MAX", "8")
    assert cap_malloc_arenas() is False
