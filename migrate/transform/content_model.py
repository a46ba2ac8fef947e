"""Records of the content transform: what one Teams message becomes in Slack.

`migrate.transform.content` re-exports these; they live apart so that the HTML walk and the card
rendering can use them without importing the module that uses them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


def _default(kind: str):
    def make() -> Mapping[str, str]:
        from migrate.transform.mappings import default_mapping

        return default_mapping(kind)
    return make


@dataclass(frozen=True)
class RenderContext:
    users: Mapping[str, str]            # Teams user id -> display name (when payloads lack names)
    timezone: str = "UTC"               # IANA name for the provenance line
    emoji: Mapping[str, str] = field(default_factory=_default("emoji"))
    reactions: Mapping[str, str] = field(default_factory=_default("reactions"))
    system_events: Mapping[str, str] = field(default_factory=_default("system_events"))
    max_chars: int = 4000
    # Through the API every post is the app's, dated now: the original date, the reactions
    # and the edit are written into the text. In an import bundle the message keeps its author,
    # its ts, real reactions and an `edited` field, so none of that is added (attribution off).
    attribution: bool = True


@dataclass(frozen=True)
class FileRef:
    """Something to upload into the message's thread."""

    source: str         # "hosted" (inline image) | "reference" (SharePoint/OneDrive attachment)
    source_id: str      # hostedContent id | attachment id (teams_files.source_id)
    name: str | None


@dataclass(frozen=True)
class Rendered:
    parts: tuple[str, ...]          # parts[0] is the message text; parts[1:] continuation replies
    files: tuple[FileRef, ...]
    warnings: tuple[tuple[str, str], ...]   # (kind, detail)
    skip_reason: str | None = None          # set when the message is not posted
