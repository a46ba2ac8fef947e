"""What the steps of a channel lane share: the context every step works in (LaneContext), the one
reading of a Slack error as an outcome (settle, with each step's Refusals) and of an outcome
as the item's ledger state (LaneContext.conclude), Slack's refusal codes, the lane's items and
the two ways a step ends early. The exactly-once rules are in
migrate/load/importer.py; the steps are in lane_setup.py and lane_messages.py."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, Protocol

from migrate.load.client import (
    SlackClient,
    SlackError,
    SlackOutcomeUnknown,
    SlackRateLimited,
    SlackRefused,
    SlackUnavailable,
)
from migrate.load.scheduler import Scheduler
from migrate.plan.build import ChannelPlan, Post, Retraction, Upload
from migrate.store import Store, ledger
from migrate.store.keys import ChannelStepKey
from migrate.timestamps import parse_instant

LOOKBACK_S = 600.0        # an in-doubt post is looked for from this long before its intent
TRIES = 3                 # posts tried per run when their outcome keeps being unknown
INVITE_BATCH = 100        # the stricter of the documented maxima (docs.slack.dev conversations.invite)
GUEST_CODES = {"user_is_restricted", "user_is_ultra_restricted", "ura_max_channels"}
CHANNEL_CODES = {"channel_not_found", "not_in_channel", "is_archived", "restricted_action",
                 "no_permission", "method_not_supported_for_channel_type"}
# Refusals that say this content will never be accepted: the item is skipped, not retried.
CONTENT_CODES = {"msg_too_long", "no_text", "invalid_blocks", "invalid_blocks_format",
                 "msg_blocks_too_long", "too_many_attachments", "invalid_metadata_format",
                 "invalid_metadata_schema", "metadata_too_large", "markdown_text_conflict",
                 "file_type_not_allowed", "file_upload_size_restricted", "file_uploads_disabled",
                 "file_uploads_except_images_disabled", "invalid_arguments"}


def epoch(iso: str | None) -> float:
    moment = parse_instant(iso)
    return moment.timestamp() if moment is not None else time.time()


def payload(message: dict) -> dict:
    return ((message.get("metadata") or {}).get("event_payload")) or {}


class Halt(Exception):
    """This channel's lane cannot go on in this run."""


class Refused(Exception):
    """This item is skipped for good (recorded); the lane goes on."""


@dataclass
class Item:
    kind: str          # channel | rename | purpose | topic | post | upload | retract | invite | archive
    post: Post | None = None
    upload: Upload | None = None
    retraction: Retraction | None = None


def share_ts(answer: dict, channel: str | None) -> str | None:
    """The ts of the share message when Slack already reports it (it may not: files.completeUploadExternal
    answers before the share is posted)."""
    for f in answer.get("files") or []:
        for kind in ("public", "private"):
            shares = ((f.get("shares") or {}).get(kind) or {}).get(channel or "") or []
            if shares:
                return shares[-1].get("ts")
    return None


# ---------------------------------------------------------------------- outcomes


class Outcome(Enum):
    """How a Slack call ended, named after the ledger state it leads to (ledger.py; written
    by LaneContext.conclude)."""

    DONE = "done"            # answered, or refused with a code that says it is so already
    IN_DOUBT = "in_doubt"    # a write got no answer: it may have landed; look it up first
    FAILED = "failed"        # transient (or about the channel, not the item): next run retries
    SKIPPED = "skipped"      # refused for good: recorded with Slack's reason, never retried
    AGAIN = "again"          # refused in a way the step mends at once (name_taken: next name)


@dataclass(frozen=True)
class Refusals:
    """How one step reads Slack's refusals: the codes with an outcome of their own, and the
    outcome of every other code (None: no refusal is expected here; it stops the run as any
    error a step does not expect)."""

    other: Outcome | None
    codes: Mapping[str, Outcome] = field(default_factory=dict)


def _each(codes: set[str], outcome: Outcome) -> dict[str, Outcome]:
    return dict.fromkeys(codes, outcome)


LOOKUP = Refusals(Outcome.FAILED)          # a read that did not answer: the item stays as it was
UNAVAILABLE_ONLY = Refusals(None)
JOIN = Refusals(Outcome.FAILED)
CREATE = Refusals(Outcome.FAILED, {"name_taken": Outcome.AGAIN})
RENAME = Refusals(Outcome.SKIPPED, {"name_taken": Outcome.AGAIN})
SET_TEXT = Refusals(Outcome.SKIPPED)
# A refused invite names the users it refuses (each skipped), unless it is about the channel.
INVITE = Refusals(Outcome.SKIPPED, _each(CHANNEL_CODES, Outcome.FAILED))
ARCHIVE = Refusals(Outcome.FAILED, {"already_archived": Outcome.DONE})
CONTENT = Refusals(Outcome.FAILED, _each(CONTENT_CODES, Outcome.SKIPPED))   # posts, uploads
EDIT = Refusals(Outcome.SKIPPED)
DELETE = Refusals(Outcome.FAILED, {"message_not_found": Outcome.DONE})


def settle(exc: SlackError, refusals: Refusals) -> Outcome | None:
    """The one reading of a Slack error, for every step: no answer to a write (outcome
    unknown) → in doubt; Slack unavailable after the client's retries → failed; a refusal →
    what the step's `refusals` say of its code. None: not an error this step expects."""
    if isinstance(exc, SlackOutcomeUnknown):
        return Outcome.IN_DOUBT
    if isinstance(exc, SlackUnavailable):
        return Outcome.FAILED
    if isinstance(exc, SlackRefused):
        return refusals.codes.get(exc.code, refusals.other)
    return None


def imported(row: sqlite3.Row) -> bool:
    """A ledger row of a message Slack's importer brought in (bundle/handover.py): it is the
    person's own message in Slack, which an app can neither edit nor delete."""
    return (row["reason"] or "").startswith("imported from")


@dataclass
class Answer:
    """A Slack call settled: its outcome, Slack's answer (when it answered), the error (when
    it did not)."""

    outcome: Outcome
    value: Any = None
    error: SlackError | None = None

    @property
    def code(self) -> str:
        return self.error.code if self.error is not None else ""

    @property
    def refused(self) -> bool:
        return isinstance(self.error, SlackRefused)

    def reason(self, refused: str | None = None) -> str:
        """The reason the ledger keeps: `refused` (or a plain one) for a refusal, else that
        Slack was unavailable."""
        if not self.refused:
            return f"Slack unavailable ({self.code})"
        return refused or f"Slack refused: {self.code}"


# ---------------------------------------------------------------------- the context


class Run(Protocol):
    """What a lane shares with the whole import (the Importer): counters, names, look-ups."""

    def count(self, kind: str, outcome: str, reason: str | None = None, n: int = 1) -> None: ...
    def note_posted(self, slack_channel: str | None) -> None: ...
    def note_halted(self, label: str, why: str) -> None: ...
    def workspace_channel(self, name: str, *, refresh: bool = False) -> dict | None: ...
    def bot_user(self) -> str | None: ...
    def claim_name(self, name: str) -> bool: ...


@dataclass
class LaneContext:
    """Everything a step of one channel's lane reads or changes. Steps are functions
    `step(ctx, item)` (lane.STEPS); the lane owns the order, the context the state."""

    store: Store
    client: SlackClient
    scheduler: Scheduler
    run: Run
    cp: ChannelPlan
    run_id: int | None
    files_dir: Path
    deleted_messages: str                     # delete | placeholder
    channel_posts: Callable[[], list[Post]]   # this channel's, in order (read from the plan)
    channel_uploads: Callable[[], list[Upload]]
    rows: dict[str, sqlite3.Row]              # the ledger rows of the lane's current window
    thread_ts: Any                            # Teams root message id → its ts (lane.ThreadTs)
    usernames: dict[str, str]                 # Teams message id → the name it is posted under
    label: str                                # the channel's name in progress and reports
    slack_id: str | None                      # the Slack channel, once created or found
    left: int = 0                             # posts and uploads not passed yet (priority)
    trouble: bool = False                     # something failed: never archive in this run

    def key(self, step: str) -> str:
        return ChannelStepKey(step, self.cp.teams_channel_id).text

    def call(self, method: str, fn: Callable[[], Any], *, posting: bool = False) -> Any:
        """One Slack call through the scheduler (a 429 is waited out there)."""
        return self.scheduler.call(method, self.slack_id if posting else None, fn,
                                   priority=self.left)

    def attempt(self, refusals: Refusals, fn: Callable[[], Any]) -> Answer:
        """Run `fn` (one call, or a look-up of several) and settle any Slack error it meets.
        A 429 that outlasted the scheduler's patience is no outcome: it halts the lane."""
        try:
            return Answer(Outcome.DONE, fn())
        except (SlackRefused, SlackUnavailable, SlackOutcomeUnknown) as exc:
            outcome = settle(exc, refusals)
            if outcome is None:
                raise
            return Answer(outcome, error=exc)

    def recorded(self, key: str, kind: str, fn: Callable[[], Any], **intent: Any) -> Any:
        """`fn` (one Slack call with a side effect), its intent written just before it goes.
        A 429 withdraws the intent: Slack did not act, and a Ctrl-C while the scheduler waits
        out the 429 must not leave a row claiming a call in flight."""
        ledger.intent(self.store, key, kind, run_id=self.run_id, **intent)
        try:
            return fn()
        except SlackRateLimited as exc:
            ledger.not_sent(self.store, key, f"rate limited by Slack ({exc.code}); not sent")
            raise

    def try_call(self, method: str, fn: Callable[[], Any], refusals: Refusals, *,
                 posting: bool = False) -> Answer:
        return self.attempt(refusals, lambda: self.call(method, fn, posting=posting))

    # ------------------------------------------------------------------ ledger verdicts

    def conclude(self, key: str, kind: str, answer: Answer, *, what: str | None = None,
                 what_skipped: str | None = None, unanswered: str | None = None,
                 halt: bool = True) -> bool:
        """The one mapping of a call's outcome to its item's ledger state. True when Slack did
        it (DONE): the step records that, with what Slack answered. Otherwise the item is
        recorded as the outcome says and False returned — SKIPPED: skipped for good; FAILED:
        failed, the next run retries (the lane halts unless `halt=False`); IN_DOUBT: in doubt,
        for the step to look it up before anything is sent again.
        The reason names what Slack refused ("Slack refused {what}: {code}"; `what_skipped`
        when a skip names it otherwise) or what got no answer (`unanswered`, else the method).
        AGAIN is never concluded: the step mends it (the next name) and calls again."""
        if answer.outcome is Outcome.DONE:
            return True
        code = answer.code
        if answer.outcome is Outcome.SKIPPED:
            named = what_skipped or what
            self.skip(key, kind, f"Slack refused {named}: {code}" if named else answer.reason())
        elif answer.outcome is Outcome.FAILED:
            self.fail(key, kind, answer.reason(f"Slack refused {what}: {code}" if what else None),
                      halt=halt)
        elif answer.outcome is Outcome.IN_DOUBT:
            method = answer.error.method if answer.error is not None else kind
            ledger.in_doubt(self.store, key, f"no answer to {unanswered or method} ({code})")
        else:
            raise ValueError(f"{kind} {key}: {answer.outcome.name} is the step's to mend")
        return False

    def fail(self, key: str, kind: str, reason: str, *, halt: bool = True) -> None:
        ledger.failed(self.store, key, reason, kind=kind, run_id=self.run_id)
        self.run.count(kind, "failed", reason)
        self.trouble = True
        if halt:
            raise Halt(f"{kind} failed: {reason}")

    def still_in_doubt(self, key: str, kind: str, reason: str, *, halt: bool = True) -> None:
        """The look-up itself failed: the item stays in doubt (never `failed`, which the next
        run would simply redo) so it is looked up again before anything is re-sent."""
        ledger.in_doubt(self.store, key, reason)
        self.run.count(kind, "failed", reason)
        self.trouble = True
        if halt:
            raise Halt(f"{kind} in doubt: {reason}")

    def skip(self, key: str, kind: str, reason: str) -> None:
        ledger.skipped(self.store, key, kind, reason, run_id=self.run_id)
        self.run.count(kind, "skipped", reason)
