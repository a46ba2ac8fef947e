"""Which teams and chats a run covers: include/exclude by name glob or id (settings.export),
and a shard's share (`--shard i/n`, for several runners exporting one tenant in parts).

Shards split the tenant deterministically: a team belongs to shard 1 + (SHA-1 of its id mod
n); a chat to the shard of its smallest member account id (that shard reads the member's chat
stream, so it always has the chat's messages). n runners, each with its own working
directory, together cover every team and chat exactly once.
"""

from __future__ import annotations

import fnmatch
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from migrate.errors import ConfigError


def _matches(team_id: str, name: str, patterns: Sequence[str]) -> bool:
    name = (name or "").casefold()
    return any(p == team_id or fnmatch.fnmatchcase(name, p.casefold()) for p in patterns)


def team_in_scope(team_id: str, name: str, include: Sequence[str], exclude: Sequence[str]) -> bool:
    if include and not _matches(team_id, name, include):
        return False
    return not _matches(team_id, name, exclude)


@dataclass(frozen=True)
class Shard:
    index: int      # 1 … count
    count: int

    @classmethod
    def parse(cls, text: str | None) -> Shard | None:
        """"i/n" (1 ≤ i ≤ n) → Shard; "" or None → no sharding."""
        if not text:
            return None
        match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
        if not match or not 1 <= int(match.group(1)) <= int(match.group(2)):
            raise ConfigError(f"shard {text!r} is not i/n with 1 ≤ i ≤ n",
                              hint="e.g. --shard 2/4 (a Kubernetes Indexed Job: "
                                   "--shard $((JOB_COMPLETION_INDEX + 1))/4)")
        return cls(int(match.group(1)), int(match.group(2)))

    def of(self, key: str) -> int:
        digest = hashlib.sha1(key.encode("utf-8"), usedforsecurity=False).digest()
        return 1 + int.from_bytes(digest[:8], "big") % self.count

    def owns_team(self, team_id: str) -> bool:
        return self.of(team_id) == self.index

    def owns_person(self, user_id: str) -> bool:
        """Whose chat streams this shard reads."""
        return self.of(user_id) == self.index

    def owns_chat(self, member_accounts: Iterable[str]) -> bool:
        """A chat is its smallest member account's shard's (a shard that reads that person's
        stream); a chat with no member account is nobody's to read."""
        accounts = sorted(member_accounts)
        return bool(accounts) and self.owns_person(accounts[0])

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"
