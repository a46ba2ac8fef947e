"""glibc's malloc arenas, capped before the export starts its threads.

glibc gives a thread that finds the arenas busy an arena of its own, up to 8 per core
(mallopt(3), M_ARENA_MAX), and memory freed in one arena is not reused by another. The
export's reader threads each parse pages (strings over 512 bytes go to malloc, not to Python's
own allocator), and 16 arenas on 2 cores kept 10 MB and more free but resident, growing
through the run. Two arenas, measured at the same speed (the GIL already serialises most
allocation): peak RSS of export at 100k messages 68 → 59 MB, at 1M 82 → 71 MB. Elsewhere
(musl, macOS, Windows) there is nothing to cap.
"""

from __future__ import annotations

import ctypes
import os

M_ARENA_MAX = -8        # glibc's malloc.h
ARENAS = 2


def cap_malloc_arenas(limit: int = ARENAS) -> bool:
    """Cap glibc's arenas for threads started from now on; False where nothing was done
    (not glibc, or MALLOC_ARENA_MAX set by the user, which then stands)."""
    if "MALLOC_ARENA_MAX" in os.environ:
        return False
    try:
        if not os.confstr("CS_GNU_LIBC_VERSION"):
            return False
        return bool(ctypes.CDLL(None).mallopt(M_ARENA_MAX, limit))
    except (AttributeError, ValueError, OSError):
        return False
