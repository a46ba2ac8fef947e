"""The plan's figures — what its summary, report and estimate show — kept as its items are
made, so nothing has to hold or re-read a list of every post to know how many there are."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


def year_of(created_at: str) -> str:
    """'2021' of an ISO date; '' when it has none (counted as before every cut-off)."""
    year = created_at[:4]
    return year if year.isdigit() else ""


@dataclass
class Tally:
    posts: int = 0
    messages: int = 0                 # Teams messages with posts (a long one has several)
    uploads: int = 0
    upload_bytes: int = 0
    skips: Counter = field(default_factory=Counter)            # (kind, reason's head) → n
    channel_years: Counter = field(default_factory=Counter)    # (Teams channel, year) → posts
    channel_uploads: Counter = field(default_factory=Counter)  # Teams channel → uploads

    def add_post(self, post: Any) -> None:
        self.posts += 1
        self.messages += post.part == 0
        self.channel_years[(post.channel, year_of(post.created_at))] += 1

    def add_upload(self, upload: Any) -> None:
        self.uploads += 1
        self.upload_bytes += upload.size
        self.channel_uploads[upload.channel] += 1

    def add_skip(self, skip: Any) -> None:
        self.skips[(skip.kind, skip.reason.split(":")[0])] += 1

    @classmethod
    def of(cls, posts: Iterable[Any], uploads: Iterable[Any], skips: Iterable[Any]) -> Tally:
        tally = cls()
        for post in posts:
            tally.add_post(post)
        for upload in uploads:
            tally.add_upload(upload)
        for skip in skips:
            tally.add_skip(skip)
        return tally

    def years(self) -> list[str]:
        return sorted({year for (_, year) in self.channel_years if year})

    def per_channel(self, since_year: str | None = None) -> Counter[str]:
        """Posts and uploads per channel (uploads post into the channel too); only the posts
        of `since_year` and later when given."""
        counts: Counter[str] = Counter()
        for (channel, year), n in self.channel_years.items():
            if since_year is None or year >= since_year:
                counts[channel] += n
        counts.update(self.channel_uploads)
        return counts

    def skipped_messages(self) -> dict[str, int]:
        out: Counter[str] = Counter()
        for (kind, reason), n in self.skips.items():
            if kind == "message":
                out[reason] += n
        return dict(out)

    def skipped(self, kind: str) -> int:
        return sum(n for (k, _), n in self.skips.items() if k == kind)

    def skip_reasons(self) -> Counter[str]:
        """Skips of every kind by the head of their reason."""
        out: Counter[str] = Counter()
        for (_, reason), n in self.skips.items():
            out[reason] += n
        return out
