"""The skeleton of a generated tenant (lazy_tenant.py), built once from (messages, seed).

What is held, and nothing more: teams, channels, per-team member lists, chats and their members,
message counts (a few MB at N = 10,000,000). Every user, member and message object is computed
from it when asked for (lazy_tenant.py); the hash and id primitives here are shared by both.

Shape, deterministic from (N, seed):

* users U = min(350,000, max(50, N // 30)) (or `people=`); ~2% disabled.
* teams T = max(3, N // 20,000), Pareto-sized (the N channel messages split over them
  exactly); 2–14 channels each (8 on average): the General channel, then ~10% private, ~3%
  shared, the rest standard, Pareto-sized inside the team (a few busy, many quiet).
* team members: 10–500 users per team (≤ U), the first 1–3 owners; a private or shared
  channel's members are a run of the team's members.
* chats ≈ U // 3 (60% 1:1, 35% group of 3–12, 5% meeting) sharing N // 10 chat messages.
"""

from __future__ import annotations

import random
from array import array
from dataclasses import dataclass

BASE_MS = 1_577_836_800_000                  # 2020-01-01T00:00:00Z
SPAN_MS = 5 * 365 * 86_400_000               # five years of history
YEAR_MS = 365 * 86_400_000
AXIS = 1 << 40                                # the virtual time axis of channel interleaving
MASK = (1 << 64) - 1


def _mix(x: int) -> int:
    """splitmix64's finaliser: a well-spread 64-bit value of x."""
    x = (x + 0x9E3779B97F4A7C15) & MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK
    return x ^ (x >> 31)


def hash_of(*parts: int) -> int:
    x = 0
    for p in parts:
        x = _mix(x ^ p)
    return x


def guid_for(i: int, h: int) -> str:
    """A version-4-shaped GUID whose first 8 hex digits are the index i (so it can be parsed
    back), the rest from h."""
    return (f"{i & 0xFFFFFFFF:08x}-{(h >> 48) & 0xFFFF:04x}-4{(h >> 36) & 0xFFF:03x}-"
            f"{0x8000 | ((h >> 22) & 0x3FFF):04x}-{(h >> 8 ^ h << 40) & 0xFFFFFFFFFFFF:012x}")


def index_of_guid(text: str) -> int | None:
    try:
        return int(text[:8], 16) if len(text) == 36 and text[8] == "-" else None
    except ValueError:
        return None


def _split(total: int, weights: list[float], minimum: int = 0) -> list[int]:
    """`total` split in proportion to `weights`, exactly (largest remainders), each ≥ minimum
    when total allows."""
    if not weights:
        return []
    floor = minimum if total >= minimum * len(weights) else 0
    rest = total - floor * len(weights)
    s = sum(weights)
    shares = [rest * w / s for w in weights]
    counts = [int(x) for x in shares]
    left = rest - sum(counts)
    for idx in sorted(range(len(weights)), key=lambda j: counts[j] - shares[j])[:left]:
        counts[idx] += 1
    return [c + floor for c in counts]


@dataclass(frozen=True)
class Shape:
    messages: int
    users: int
    teams: int
    chats: int
    chat_messages: int


def shape_of(messages: int, people: int | None = None) -> Shape:
    """The tenant's proportions; `people` fixes the number of users (to measure what grows
    with history alone) instead of one per 30 messages."""
    users = people if people is not None else min(350_000, max(50, messages // 30))
    return Shape(messages, users, max(3, messages // 20_000), users // 3, messages // 10)


@dataclass
class LazyChannel:
    team: int
    index: int
    id: str
    name: str
    membership: str             # standard | private | shared
    count: int                  # messages
    start: int                  # A_c on the virtual axis
    member_start: int = 0       # private/shared: a run of the team's members
    member_count: int = 0


@dataclass
class LazyTeam:
    index: int
    id: str
    name: str
    created_ms: int
    count: int                  # messages over its channels
    span_start: int             # BASE_MS + offset: its first possible message
    members: array              # user indexes
    owners: int
    channels: list[LazyChannel]


class TenantSkeleton:
    """The tenant's teams, channels and chats as counts and index arrays; the objects are
    computed from them by its subclass, lazy_tenant.LazyTenant."""

    def __init__(self, messages: int, *, seed: int = 1, people: int | None = None) -> None:
        if messages < 0:
            raise ValueError("messages must be ≥ 0")
        if people is not None and people < 2:
            raise ValueError("people must be ≥ 2")
        self.shape = shape_of(messages, people)
        self.seed = seed
        self.salt = hash_of(seed, messages, 0x5EED)
        rng = random.Random(f"lazy-tenant-{seed}-{messages}")
        self.tenant_id = guid_for(rng.getrandbits(32), rng.getrandbits(64))
        self.display_name = f"Synthetic tenant ({messages:,} messages)"
        self.users_count = self.shape.users
        self.teams: list[LazyTeam] = []
        self.channels_by_id: dict[str, LazyChannel] = {}
        self.team_by_id: dict[str, LazyTeam] = {}
        self._build_teams(rng)
        self._build_chats(random.Random(f"lazy-chats-{seed}-{messages}"))

    def _build_teams(self, rng: random.Random) -> None:
        shape = self.shape
        sizes = _split(shape.messages, [rng.paretovariate(1.6) for _ in range(shape.teams)], 1)
        for t, size in enumerate(sizes):
            team_id = guid_for(t, hash_of(self.salt, 0x7EA4, t))
            offset = rng.randrange(YEAR_MS)
            n_members = rng.randint(min(10, shape.users), min(500, shape.users))
            members = array("i", rng.sample(range(shape.users), n_members))
            n_channels = 2 + rng.randrange(13)
            counts = _split(size, [rng.paretovariate(1.1) for _ in range(n_channels)], 1)
            team = LazyTeam(t, team_id, f"Team {t:04d}", BASE_MS + offset - 86_400_000, size,
                            BASE_MS + offset, members, 1 + rng.randrange(3), [])
            for c, count in enumerate(counts):
                r = rng.random()
                kind = "standard" if c == 0 or r >= 0.13 else ("private" if r < 0.10 else "shared")
                cid = f"19:{hash_of(self.salt, 0xC4A1, t, c):016x}{t:06x}{c:02x}@thread.tacv2"
                ch = LazyChannel(t, c, cid, "General" if c == 0 else f"channel-{t:04d}-{c:02d}",
                                 kind, count, 0 if c == 0 else rng.randrange(AXIS // 2))
                if kind != "standard":
                    ch.member_count = max(2, min(n_members, rng.randint(2, max(2, n_members // 3))))
                    ch.member_start = rng.randrange(n_members)
                team.channels.append(ch)
                self.channels_by_id[cid] = ch
            self.teams.append(team)
            self.team_by_id[team_id] = team

    def _build_chats(self, rng: random.Random) -> None:
        shape = self.shape
        n = shape.chats if shape.users >= 2 else 0
        self.chat_kind = array("b")           # 0 oneOnOne, 1 group, 2 meeting
        self.chat_member_at = array("i", [0])  # offsets into chat_members
        self.chat_members = array("i")
        self.chat_start = array("q")           # ms offset from BASE_MS
        pairs: set[tuple[int, int]] = set()
        for _ in range(n):
            r = rng.random()
            kind = 0 if r < 0.60 else (1 if r < 0.95 else 2)
            if kind == 0:
                a, b = rng.sample(range(shape.users), 2)
                if (min(a, b), max(a, b)) in pairs:
                    kind, people = 1, [a, b, rng.randrange(shape.users)]
                    people = list(dict.fromkeys(people))
                else:
                    pairs.add((min(a, b), max(a, b)))
                    people = [a, b]
            else:
                people = rng.sample(range(shape.users), min(shape.users, rng.randint(3, 12)))
            self.chat_kind.append(kind)
            self.chat_members.extend(people)
            self.chat_member_at.append(len(self.chat_members))
            self.chat_start.append(rng.randrange(SPAN_MS * 9 // 10))
        del pairs
        self.chat_count = array("q", _split(shape.chat_messages,
                                            [rng.paretovariate(1.3) for _ in range(n)]))
        # user → chats (CSR): offsets by user, then chat indexes
        per_user = array("i", bytes(4 * (shape.users + 1)))
        for u in self.chat_members:
            per_user[u + 1] += 1
        for u in range(shape.users):
            per_user[u + 1] += per_user[u]
        self.user_chat_at = per_user
        self.user_chats_flat = array("i", bytes(4 * len(self.chat_members)))
        fill = array("i", per_user[:-1])
        for k in range(n):
            for u in self.chat_members[self.chat_member_at[k]:self.chat_member_at[k + 1]]:
                self.user_chats_flat[fill[u]] = k
                fill[u] += 1
