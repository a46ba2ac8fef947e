"""What the parts of a channel lane share: Slack's refusal codes, the lane's items, and the
two ways a step ends early (DESIGN §4.5 rules are in migrate/load/importer.py)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from migrate.plan.build import Post, Retraction, Upload
from migrate.timestamps import parse_instant

LOOKBACK_S = 600.0        # an in-doubt post is looked for from this long before its intent
TRIES = 3                 # posts tried per run when their outcome keeps being unknown
INVITE_BATCH = 100        # reference §4.3: the stricter of the documented maxima
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
    kind: str          # channel | purpose | topic | post | upload | retract | invite | archive
    post: Post | None = None
    upload: Upload | None = None
    retraction: Retraction | None = None



def share_ts(answer: dict, channel: str | None) -> str | None:
    """The ts of the share message when Slack already reports it (it may not: §6.5)."""
    for f in answer.get("files") or []:
        for kind in ("public", "private"):
            shares = ((f.get("shares") or {}).get(kind) or {}).get(channel or "") or []
            if shares:
                return shares[-1].get("ts")
    return None

