"""Files a Teams message refers to: inline images (hostedContents) and `reference`
attachments (SharePoint/OneDrive files), and how to fetch each through Graph."""

from __future__ import annotations

import base64
import html
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

_HOSTED = re.compile(r"""src\s*=\s*["']([^"']*/hostedContents/([^/"']+)/\$value)["']""", re.I)


@dataclass(frozen=True)
class Asset:
    source: str        # 'hosted' | 'reference'
    source_id: str     # hostedContent id, or the attachment id
    name: str | None
    url: str           # Graph path (relative to the base URL) that returns the bytes


def share_token(url: str) -> str:
    """The `/shares/{token}` id of a sharing URL: base64url without padding, prefixed u!
    (reference/graph.md §6)."""
    encoded = base64.urlsafe_b64encode(url.encode("utf-8")).decode("ascii").rstrip("=")
    return "u!" + encoded


def graph_relative(url: str) -> str:
    """`https://graph.microsoft.com/v1.0/teams/...` → `/teams/...`: bodies carry the global
    host; the configured base URL (national cloud, emulator) is what we must call."""
    path = urlsplit(html.unescape(url)).path
    for version in ("/v1.0/", "/beta/"):
        if version in path:
            return "/" + path.split(version, 1)[1]
    return path


def message_assets(message: dict[str, Any]) -> list[Asset]:
    assets: list[Asset] = []
    seen: set[tuple[str, str]] = set()
    content = ((message.get("body") or {}).get("content")) or ""
    for match in _HOSTED.finditer(content):
        key = ("hosted", match.group(2))
        if key not in seen:
            seen.add(key)
            assets.append(Asset("hosted", match.group(2), None, graph_relative(match.group(1))))
    for attachment in message.get("attachments") or []:
        if attachment.get("contentType") != "reference" or not attachment.get("contentUrl"):
            continue
        key = ("reference", attachment.get("id") or attachment["contentUrl"])
        if key in seen:
            continue
        seen.add(key)
        assets.append(Asset("reference", key[1], attachment.get("name"),
                            f"/shares/{share_token(attachment['contentUrl'])}/driveItem/content"))
    return assets
