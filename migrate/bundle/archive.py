"""The ZIPs of a bundle: one per date range (month or year), cut further into parts when a
range would exceed the size cap, written entry by entry (nothing held but the open files).

Deterministic: every entry has a fixed date, mode and compression, and entries are added in
the order the writer produces them (conversations in plan order, days in order), with the
conversation lists and users written last — the same store gives byte-identical ZIPs.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

FIXED_TIME = (1980, 1, 1, 0, 0, 0)   # the ZIP format's earliest date: no clock in the bytes


def _entry(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o600 << 16
    info.create_system = 3
    return info


@dataclass
class _Part:
    path: Path
    archive: zipfile.ZipFile
    size: int = 0
    conversations: set[str] = field(default_factory=set)


class Archives:
    """`add(period, conversation, name, data)`; `close(metadata)` writes each ZIP's own
    conversation lists (only the conversations it holds) and returns the paths in order."""

    def __init__(self, directory: Path, prefix: str, max_bytes: int) -> None:
        self.directory = directory
        self.prefix = prefix
        self.max_bytes = max_bytes
        self.parts: dict[str, list[_Part]] = {}

    def _open(self, period: str) -> _Part:
        parts = self.parts.setdefault(period, [])
        suffix = f"-part{len(parts) + 1}" if parts else ""
        path = self.directory / f"{self.prefix}-{period}{suffix}.zip"
        part = _Part(path, zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED))
        parts.append(part)
        return part

    def add(self, period: str, conversation: str, name: str, data: bytes) -> Path:
        parts = self.parts.get(period)
        part = parts[-1] if parts else self._open(period)
        if part.size and part.size + len(data) > self.max_bytes:
            part = self._open(period)          # a new part: each import stays under the cap
        part.archive.writestr(_entry(name), data)
        part.size += len(data)
        part.conversations.add(conversation)
        return part.path

    def close(self, metadata: Callable[[set[str]], dict[str, bytes]]) -> list[Path]:
        out: list[Path] = []
        for period in sorted(self.parts):
            for part in self.parts[period]:
                for name, data in metadata(part.conversations).items():
                    part.archive.writestr(_entry(name), data)
                part.archive.close()
                out.append(part.path)
        return out

    def abort(self) -> None:
        for parts in self.parts.values():
            for part in parts:
                part.archive.close()
                part.path.unlink(missing_ok=True)
