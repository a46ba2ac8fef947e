"""A generated enterprise-shaped Teams tenant whose messages are computed on demand.

`LazyTenant(messages=N, seed=S)` holds only the tenant's skeleton (lazy_skeleton.py: its shape,
and how teams, channels and chats are drawn); every user, member and message object is computed
here from (seed, indexes) when asked for, the same each time. lazy_store.py makes it look like
the in-memory stores the Graph emulator serves.

The objects: users `userNNNNNNN@example.test`; messages ~40% replies (to one of the three roots
before them in the channel), ~5% edited and ~8% reacted to (lastModifiedDateTime later than
createdDateTime, before the next message of the team), ~0.5% soft-deleted, an inline image
every ~500 and a reference file every ~2,000; dates over five years (2020–2024).

How a message is found without materialising the others: a team's messages are one sequence
ordered by lastModifiedDateTime (= createdDateTime order, since a message is changed before the
next one is posted). Message i of team t has dates computed from i alone (a grid over the
team's span plus jitter, strictly increasing), so a lastModified window is a binary search on
i. Which channel message i belongs to comes from interleaving the channels' own sequences on a
virtual time axis: channel c's k-th message sits at T(c,k) = A_c + (2k+1)·W_c // 2n_c, and the
count of a channel's messages before any X is closed-form, so team index ↔ (channel, k) is a
sum over the team's channels (and a binary search over X for the inverse). Chats are one
sequence per chat with the same date grid. Message ids are epoch milliseconds of
createdDateTime, unique within a team (so within a channel) and within a chat.
"""

from __future__ import annotations

import base64
import heapq
from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from typing import Any

from migrate.sandbox.graph_odata import iso_from_millis
from migrate.sandbox.lazy_skeleton import (
    AXIS,
    BASE_MS,
    SPAN_MS,
    LazyChannel,
    LazyTeam,
    TenantSkeleton,
    guid_for,
    hash_of,
    index_of_guid,
)

Json = dict[str, Any]
MEMBER_TYPE = "#microsoft.graph.aadUserConversationMember"
ALL_HISTORY = "0001-01-01T00:00:00Z"
IMAGE_EVERY, FILE_EVERY = 500, 2_000
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
TINY_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d4944415478da63f8cfc0f01f0005000201e2d2b1f40000000049454e44ae426082")
_GIVEN = ("Ada Alan Amir Ana Ben Carla Chen Dana Dmitri Eva Farah Femi Grace Hana Ivan Jin Jonas "
          "Kai Lena Luis Maya Mei Nora Omar Priya Quinn Rosa Sam Sara Tomas Uma Wei Yara Zoe")
_FAMILY = ("Adams Bauer Chen Diaz Evans Fischer Garcia Haddad Ito Jensen Kim Lopez Moreau Nakamura "
           "Okafor Patel Rossi Schmidt Silva Tanaka Weber Young Zhang Novak Khan Berg")
GIVEN, FAMILY = _GIVEN.split(), _FAMILY.split()
REACTIONS = ("like", "heart", "laugh", "surprised", "sad", "angry")


class LazyTenant(TenantSkeleton):
    """A generated tenant: its skeleton (lazy_skeleton.py), and the functions that compute its
    objects."""

    # ---- users ---------------------------------------------------------------------------------

    def user_id(self, i: int) -> str:
        return guid_for(i, hash_of(self.salt, 0x05E4, i))

    def user_index(self, key: str) -> int | None:
        """A user id or userPrincipalName → the user's index (None if no such user)."""
        key = key.strip()
        low = key.lower()
        if low.startswith("user") and low.endswith("@example.test"):
            digits = low[4:-len("@example.test")]
            if digits.isdigit() and len(digits) == 7 and int(digits) < self.users_count:
                return int(digits)
            return None
        i = index_of_guid(low)
        return i if i is not None and i < self.users_count and self.user_id(i) == low else None

    def user_name(self, i: int) -> tuple[str, str]:
        h = hash_of(self.salt, 0x4A3E, i)
        return GIVEN[h % len(GIVEN)], FAMILY[(h >> 16) % len(FAMILY)]

    def user(self, i: int) -> Json:
        given, family = self.user_name(i)
        mail = f"user{i:07d}@example.test"
        return {"businessPhones": [], "imAddresses": [], "id": self.user_id(i),
                "displayName": f"{given} {family}", "givenName": given, "surname": family,
                "mail": mail, "userPrincipalName": mail, "otherMails": [],
                "proxyAddresses": [f"SMTP:{mail}"],
                "accountEnabled": hash_of(self.salt, 0xD15A, i) % 50 != 0, "userType": "Member",
                "jobTitle": None, "creationType": None, "externalUserState": None,
                "mailNickname": f"user{i:07d}", "mobilePhone": None, "officeLocation": None,
                "preferredLanguage": None}

    def _identity(self, u: int) -> Json:
        given, family = self.user_name(u)
        return {"application": None, "device": None,
                "user": {"@odata.type": "#microsoft.graph.teamworkUserIdentity",
                         "id": self.user_id(u), "displayName": f"{given} {family}",
                         "userIdentityType": "aadUser", "tenantId": self.tenant_id}}

    def member(self, u: int, scope: str, owner: bool) -> Json:
        given, family = self.user_name(u)
        raw = f"0#{scope}#{self.user_id(u)}"
        return {"@odata.type": MEMBER_TYPE, "id": base64.b64encode(raw.encode()).decode(),
                "roles": ["owner"] if owner else [], "displayName": f"{given} {family}",
                "visibleHistoryStartDateTime": ALL_HISTORY, "userId": self.user_id(u),
                "email": f"user{u:07d}@example.test", "tenantId": self.tenant_id}

    def channel_member_users(self, ch: LazyChannel) -> list[int]:
        members = self.teams[ch.team].members
        return [members[(ch.member_start + j) % len(members)] for j in range(ch.member_count)]

    # ---- team message sequences ----------------------------------------------------------------

    @staticmethod
    def _before(ch: LazyChannel, x: int) -> int:
        """How many of the channel's messages sit before virtual time x."""
        if ch.count == 0:
            return 0
        r = 2 * ch.count * (x - ch.start)
        if r <= 0:
            return 0
        return min(ch.count, (((r - 1) // (AXIS - ch.start)) + 1) // 2)

    @staticmethod
    def _at(ch: LazyChannel, k: int) -> int:
        return ch.start + ((2 * k + 1) * (AXIS - ch.start)) // (2 * ch.count)

    def team_index(self, ch: LazyChannel, k: int) -> int:
        """The team-wide position of channel message k (order: virtual time, then channel)."""
        x = self._at(ch, k)
        pos = k
        for other in self.teams[ch.team].channels:
            if other.index != ch.index:
                pos += self._before(other, x + 1 if other.index < ch.index else x)
        return pos

    def _locate(self, team: LazyTeam, i: int) -> tuple[int, list[int]]:
        """Virtual time of team message i, and each channel's next k from it on (i included)."""
        lo, hi = 0, AXIS
        while lo < hi:   # smallest x with (messages at or before x) > i
            mid = (lo + hi) // 2
            if sum(self._before(c, mid + 1) for c in team.channels) > i:
                hi = mid
            else:
                lo = mid + 1
        x = lo
        before = [self._before(c, x) for c in team.channels]
        rank = i - sum(before)
        nxt = list(before)
        for c in team.channels:
            if self._before(c, x + 1) > before[c.index]:   # c has a message at x
                if rank == 0:
                    break
                rank -= 1
                nxt[c.index] += 1
        return x, nxt

    def team_walk(self, team: LazyTeam, start: int, stop: int) -> Iterator[tuple[int, LazyChannel, int]]:
        """(team index, channel, k) of team messages start..stop-1."""
        if start >= stop:
            return
        _, nxt = self._locate(team, start)
        heap = [(self._at(c, nxt[c.index]), c.index) for c in team.channels if nxt[c.index] < c.count]
        heapq.heapify(heap)
        for i in range(start, stop):
            _, cidx = heap[0]
            ch = team.channels[cidx]
            k = nxt[cidx]
            nxt[cidx] += 1
            if nxt[cidx] < ch.count:
                heapq.heapreplace(heap, (self._at(ch, nxt[cidx]), cidx))
            else:
                heapq.heappop(heap)
            yield i, ch, k

    def _team_dates(self, team: LazyTeam, i: int) -> tuple[int, int, int]:
        """(created ms, lastModified ms, hash) of team message i."""
        h = hash_of(self.salt, 0x3E55, team.index, i)
        span = BASE_MS + SPAN_MS - team.span_start
        gap = span // max(1, team.count)
        created = team.span_start + (i * span) // max(1, team.count) + h % max(1, gap // 4)
        kind = h % 1000
        modified = created + (1 + (h >> 40) % max(1, gap // 2) if kind < 135 else 0)
        return created, modified, h

    def team_modified_ms(self, team: LazyTeam, i: int) -> int:
        return self._team_dates(team, i)[1]

    def team_message_index(self, team: LazyTeam, message_id: str) -> int | None:
        """The team index of the message with this id (= its createdDateTime ms)."""
        if not message_id.isdigit():
            return None
        want = int(message_id)
        i = bisect_left(range(team.count), want, key=lambda j: self._team_dates(team, j)[0])
        return i if i < team.count and self._team_dates(team, i)[0] == want else None

    def modified_span(self, team: LazyTeam, lo_us: int | None, hi_us: int | None) -> tuple[int, int]:
        """Team indexes [start, end) with lo ≤ lastModified (µs) ≤ hi."""
        key = lambda j: self._team_dates(team, j)[1] * 1000  # noqa: E731
        start = bisect_left(range(team.count), lo_us, key=key) if lo_us is not None else 0
        end = bisect_right(range(team.count), hi_us, key=key) if hi_us is not None else team.count
        return start, end

    def _is_reply(self, ch: LazyChannel, k: int) -> bool:
        return k > 0 and hash_of(self.salt, 0x4E91, ch.team, ch.index, k) % 100 < 40

    def _root_of(self, ch: LazyChannel, k: int) -> int | None:
        """Channel index of the root a reply at k answers: one of the three roots before it."""
        if not self._is_reply(ch, k):
            return None
        skip = hash_of(self.salt, 0x5419, ch.team, ch.index, k) % 3
        j = k - 1
        while True:
            if not self._is_reply(ch, j):
                if skip == 0 or j == 0:
                    return j
                skip -= 1
            j -= 1

    def team_messages(self, team: LazyTeam, start: int, stop: int) -> list[Json]:
        return [self.team_message(team, ch, k, i) for i, ch, k in self.team_walk(team, start, stop)]

    def message_at(self, team: LazyTeam, i: int) -> tuple[LazyChannel, Json]:
        _, ch, k = next(self.team_walk(team, i, i + 1))
        return ch, self.team_message(team, ch, k, i)

    def team_message(self, team: LazyTeam, ch: LazyChannel, k: int, i: int) -> Json:
        created, modified, h = self._team_dates(team, i)
        root = self._root_of(ch, k)
        root_id = (str(self._team_dates(team, self.team_index(ch, root))[0])
                   if root is not None else None)
        kind = h % 1000
        mid = str(created)
        author = team.members[(h >> 12) % len(team.members)]
        msg = _message_shell(mid, created, modified, self._identity(author))
        msg["replyToId"] = root_id
        msg["channelIdentity"] = {"teamId": team.id, "channelId": ch.id}
        if kind < 5:   # soft-deleted: body emptied, still listed
            msg["deletedDateTime"] = iso_from_millis(modified)
            msg["body"] = {"contentType": "html", "content": ""}
            return msg
        content = f"<p>Message {k} in {ch.name} (team message {i})</p>"
        if kind < 55:
            msg["lastEditedDateTime"] = iso_from_millis(modified)
            content += "<p>(edited)</p>"
        elif kind < 135:
            who = team.members[(h >> 24) % len(team.members)]
            msg["reactions"] = [{"reactionType": REACTIONS[(h >> 32) % len(REACTIONS)],
                                 "displayName": None, "reactionContentUrl": None,
                                 "createdDateTime": iso_from_millis(modified),
                                 "user": self._identity(who)}]
        if self.has_image(team, i, h):
            path = (f"teams/{team.id}/channels/{ch.id}/messages/{root_id or mid}"
                    + (f"/replies/{mid}" if root_id else ""))
            content += (f'<p><img src="https://graph.microsoft.com/v1.0/{path}/hostedContents/'
                        f'{self.hosted_id(team, i)}/$value" alt="image"></p>')
        if self.has_file(team, i, h):
            att = f"{hash_of(self.salt, 0xF11E, team.index, i):032x}"
            name = f"report-{team.index}-{i}.docx"
            msg["attachments"] = [{"id": att, "contentType": "reference", "contentUrl":
                                   self.file_url(team.index, i), "content": None, "name": name,
                                   "thumbnailUrl": None, "teamsAppId": None}]
            content += f'<attachment id="{att}"></attachment>'
        msg["body"] = {"contentType": "html", "content": content}
        return msg

    # ---- files -----------------------------------------------------------------------------------

    def has_image(self, team: LazyTeam, i: int, h: int | None = None) -> bool:
        h = self._team_dates(team, i)[2] if h is None else h
        return h % 1000 >= 5 and (h >> 20) % IMAGE_EVERY == 0

    def has_file(self, team: LazyTeam, i: int, h: int | None = None) -> bool:
        h = self._team_dates(team, i)[2] if h is None else h
        return h % 1000 >= 5 and (h >> 29) % FILE_EVERY == 0

    @staticmethod
    def hosted_id(team: LazyTeam, i: int) -> str:
        return base64.urlsafe_b64encode(f"id=img-{team.index}-{i}".encode()).decode().rstrip("=")

    @staticmethod
    def parse_hosted_id(hosted: str) -> tuple[int, int] | None:
        try:
            text = base64.urlsafe_b64decode(hosted + "=" * (-len(hosted) % 4)).decode()
            _, t, i = text.removeprefix("id=").split("-")
            return int(t), int(i)
        except (ValueError, UnicodeDecodeError):
            return None

    @staticmethod
    def file_url(t: int, i: int) -> str:
        return (f"https://synthetic.sharepoint.com/sites/team{t}/Shared%20Documents/"
                f"report-{t}-{i}.docx")

    def file_bytes(self, t: int, i: int) -> bytes:
        line = f"synthetic document {t}-{i} of tenant {self.tenant_id}\n".encode()
        return b"PK\x03\x04" + line * (8 + hash_of(self.salt, 0xB17E, t, i) % 200)

    # ---- chats -----------------------------------------------------------------------------------

    def chat_people(self, k: int) -> list[int]:
        return list(self.chat_members[self.chat_member_at[k]:self.chat_member_at[k + 1]])

    def chat_id(self, k: int) -> str:
        kind = self.chat_kind[k]
        if kind == 0:
            a, b = sorted(self.user_id(u) for u in self.chat_people(k))
            return f"19:{a}_{b}@unq.gbl.spaces"
        tail = f"{k:08x}{hash_of(self.salt, 0xC4A7, k):016x}"
        return f"19:{'meeting_' if kind == 2 else ''}{tail}@thread.v2"

    def chat_index(self, chat_id: str) -> int | None:
        body = chat_id.removeprefix("19:")
        if chat_id.endswith("@unq.gbl.spaces"):
            first = self.user_index(body.split("_", 1)[0])
            candidates = self.user_chat_list(first) if first is not None else []
        else:
            body = body.removeprefix("meeting_")
            try:
                candidates = [int(body[:8], 16)]
            except ValueError:
                return None
        for k in candidates:
            if 0 <= k < len(self.chat_kind) and self.chat_id(k) == chat_id:
                return k
        return None

    def user_chat_list(self, u: int) -> list[int]:
        return list(self.user_chats_flat[self.user_chat_at[u]:self.user_chat_at[u + 1]])

    def chat_json(self, k: int) -> Json:
        created = iso_from_millis(BASE_MS + self.chat_start[k] - 60_000)
        last = (self.chat_dates(k, self.chat_count[k] - 1)[1] if self.chat_count[k]
                else BASE_MS + self.chat_start[k])
        cid = self.chat_id(k)
        kind = ("oneOnOne", "group", "meeting")[self.chat_kind[k]]
        return {"id": cid, "topic": None if kind == "oneOnOne" else f"Chat {k:06d}",
                "createdDateTime": created, "lastUpdatedDateTime": iso_from_millis(last),
                "chatType": kind, "webUrl": f"https://teams.microsoft.com/l/chat/{cid}/0"
                f"?tenantId={self.tenant_id}", "tenantId": self.tenant_id,
                "onlineMeetingInfo": None, "isHiddenForAllMembers": False}

    def chat_member_list(self, k: int) -> list[Json]:
        cid = self.chat_id(k)
        out = []
        for u in self.chat_people(k):
            m = self.member(u, "", True)
            m["id"] = base64.b64encode(f"{self.user_id(u)}##{cid}".encode()).decode()
            out.append(m)
        return out

    def chat_dates(self, k: int, j: int) -> tuple[int, int, int]:
        n = self.chat_count[k]
        h = hash_of(self.salt, 0xC3A7, k, j)
        start = BASE_MS + self.chat_start[k]
        span = BASE_MS + SPAN_MS - start
        gap = span // max(1, n)
        created = start + (j * span) // n + h % max(1, gap // 4)
        modified = created + (1 + (h >> 40) % max(1, gap // 2) if h % 1000 < 60 else 0)
        return created, modified, h

    def chat_message(self, k: int, j: int, chat_id: str | None = None) -> Json:
        created, modified, h = self.chat_dates(k, j)
        people = self.chat_people(k)
        msg = _message_shell(str(created), created, modified,
                             self._identity(people[(h >> 12) % len(people)]))
        msg["chatId"] = chat_id or self.chat_id(k)
        kind = h % 1000
        if kind < 5:
            msg["deletedDateTime"] = iso_from_millis(modified)
            msg["body"] = {"contentType": "html", "content": ""}
        else:
            msg["body"] = {"contentType": "html", "content": f"<p>Chat message {j}</p>"}
            if kind < 60:
                msg["lastEditedDateTime"] = iso_from_millis(modified)
        return msg


def _message_shell(mid: str, created: int, modified: int, sender: Json) -> Json:
    return {"id": mid, "replyToId": None, "etag": str(modified), "messageType": "message",
            "createdDateTime": iso_from_millis(created),
            "lastModifiedDateTime": iso_from_millis(modified), "lastEditedDateTime": None,
            "deletedDateTime": None, "subject": None, "summary": None, "chatId": None,
            "importance": "normal", "locale": "en-us", "webUrl": None, "policyViolation": None,
            "eventDetail": None, "from": sender, "body": None, "channelIdentity": None,
            "attachments": [], "mentions": [], "reactions": [], "messageHistory": []}
