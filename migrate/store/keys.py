"""Ledger keys: what names one Slack side effect in the ledger, in one place.

A key is a kind, then the fields of that kind, joined by ':' —

    post:<teams channel>:<teams message>:<part>            one post (a message's part n)
    file:<teams channel>:<teams message>:<source>:<source id>   one upload (hostedContent/attachment)
    member:<teams channel>:<slack user>                    one invite of one member
    <step>:<teams channel>                                 one channel step: channel (create or
                                                           reuse), rename, purpose, topic,
                                                           invite, archive, verified

The text is what the ledger stores (its primary key, so every earlier state.db must keep
reading): the format never changes. Every key starts with the Teams channel id, so a channel's
rows are one range scan (`ledger.with_prefix(store, PostKey.prefix(channel))`).

Why parsing is done here only: Teams channel ids contain ':' themselves
(`19:abc…@thread.tacv2`), so a key is never split from the left past its kind. Every other
field never holds ':' (message ids are numbers, parts are numbers, sources are words, source
ids are hostedContent or attachment ids, Slack user ids are letters and digits): a key is split
once after its kind and then from its right-hand end, and the channel is what is left in the
middle. A resumed run once found none of its thread roots because a key was split on the
first ':' (fix e207790); `parse` is the one place that knows the rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

SEP = ":"
POST = "post"
FILE = "file"
MEMBER = "member"
CHANNEL_STEPS = ("channel", "rename", "purpose", "topic", "invite", "archive", "verified")


def _prefix(kind: str, channel: str) -> str:
    return f"{kind}{SEP}{channel}{SEP}"


def _fields(text: str, kind: str, right: int) -> list[str]:
    """`text` without its kind, split into the channel and the `right` fields after it."""
    head, sep, rest = text.partition(SEP)
    if head != kind or not sep:
        raise ValueError(f"not a {kind} key: {text!r}")
    fields = rest.rsplit(SEP, right)
    if len(fields) != right + 1:
        raise ValueError(f"not a {kind} key (too few fields): {text!r}")
    return fields


@dataclass(frozen=True, order=True)
class PostKey:
    """post:<teams channel>:<teams message>:<part> — one post (a long message has parts)."""

    channel: str
    message: str
    part: int = 0

    kind: ClassVar[str] = POST

    @property
    def text(self) -> str:
        return f"{POST}{SEP}{self.channel}{SEP}{self.message}{SEP}{self.part}"

    def __str__(self) -> str:
        return self.text

    @classmethod
    def parse(cls, text: str) -> PostKey:
        channel, message, part = _fields(text, POST, 2)
        return cls(channel, message, int(part))

    @staticmethod
    def prefix(channel: str) -> str:
        """The start every post key of this Teams channel shares (for `ledger.with_prefix`)."""
        return _prefix(POST, channel)


@dataclass(frozen=True, order=True)
class FileKey:
    """file:<teams channel>:<teams message>:<source>:<source id> — one upload."""

    channel: str
    message: str
    source: str
    source_id: str

    kind: ClassVar[str] = FILE

    @property
    def text(self) -> str:
        return SEP.join((FILE, self.channel, self.message, self.source, self.source_id))

    def __str__(self) -> str:
        return self.text

    @classmethod
    def parse(cls, text: str) -> FileKey:
        channel, message, source, source_id = _fields(text, FILE, 3)
        return cls(channel, message, source, source_id)

    @staticmethod
    def prefix(channel: str) -> str:
        return _prefix(FILE, channel)


@dataclass(frozen=True, order=True)
class MemberKey:
    """member:<teams channel>:<slack user> — one member invited into the channel."""

    channel: str
    user: str

    kind: ClassVar[str] = MEMBER

    @property
    def text(self) -> str:
        return f"{MEMBER}{SEP}{self.channel}{SEP}{self.user}"

    def __str__(self) -> str:
        return self.text

    @classmethod
    def parse(cls, text: str) -> MemberKey:
        channel, user = _fields(text, MEMBER, 1)
        return cls(channel, user)

    @staticmethod
    def prefix(channel: str) -> str:
        return _prefix(MEMBER, channel)


@dataclass(frozen=True, order=True)
class ChannelStepKey:
    """<step>:<teams channel> — one step of a channel's setup (see CHANNEL_STEPS)."""

    step: str
    channel: str

    def __post_init__(self) -> None:
        if self.step not in CHANNEL_STEPS:
            raise ValueError(f"not a channel step: {self.step!r}")

    @property
    def kind(self) -> str:
        return self.step

    @property
    def text(self) -> str:
        return f"{self.step}{SEP}{self.channel}"

    def __str__(self) -> str:
        return self.text

    @classmethod
    def parse(cls, text: str) -> ChannelStepKey:
        step, sep, channel = text.partition(SEP)
        if not sep or step not in CHANNEL_STEPS:
            raise ValueError(f"not a channel step key: {text!r}")
        return cls(step, channel)


Key = PostKey | FileKey | MemberKey | ChannelStepKey


def kind_of(text: str) -> str:
    """The kind a key names (its first field): post, file, member or a channel step."""
    return text.split(SEP, 1)[0]


def parse(text: str) -> Key:
    """The typed key a ledger key's text stands for; ValueError if it is none."""
    kind = kind_of(text)
    if kind == POST:
        return PostKey.parse(text)
    if kind == FILE:
        return FileKey.parse(text)
    if kind == MEMBER:
        return MemberKey.parse(text)
    return ChannelStepKey.parse(text)
