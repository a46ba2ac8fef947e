"""Files a Teams message refers to: inline images (hostedContents) and `reference`
attachments (SharePoint/OneDrive files), and how to fetch each through Graph."""

from __future__ import annotations

import base64
import html
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

_HOSTED = re.compile(r"""src\s*=\s*["']([^"']*/hostedContents/([^/"']+)/\$value)["']""", re.I)
_HOSTED_URL = re.compile(r"/hostedContents/([^/?#\s\"']+)/\$value", re.I)
CODE_SNIPPET = "application/vnd.microsoft.card.codesnippet"
# A code snippet's language (Teams' names) → the extension its file gets in Slack.
_SNIPPET_EXT = {"python": "py", "javascript": "js", "typescript": "ts", "java": "java",
                "csharp": "cs", "c#": "cs", "cpp": "cpp", "c++": "cpp", "c": "c", "go": "go",
                "rust": "rs", "ruby": "rb", "php": "php", "sql": "sql", "json": "json",
                "xml": "xml", "html": "html", "css": "css", "bash": "sh", "shell": "sh",
                "powershell": "ps1", "yaml": "yaml", "markdown": "md", "kotlin": "kt",
                "swift": "swift", "scala": "scala", "r": "r", "perl": "pl", "lua": "lua",
                "dart": "dart", "vb.net": "vb", "plaintext": "txt", "text": "txt"}


@dataclass(frozen=True)
class Asset:
    source: str        # 'hosted' | 'reference'
    source_id: str     # hostedContent id, or the attachment id
    name: str | None
    url: str           # Graph path (relative to the base URL) that returns the bytes


def share_token(url: str) -> str:
    """The `/shares/{token}` id of a sharing URL: base64url without padding, prefixed u!
    (https://learn.microsoft.com/graph/api/shares-get)."""
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


def _card(attachment: dict[str, Any]) -> dict[str, Any]:
    """An attachment's `content`: Graph sends cards as a JSON string."""
    content = attachment.get("content")
    if isinstance(content, str):
        try:
            content = json.loads(content)
        except ValueError:
            return {}
    return content if isinstance(content, dict) else {}


def message_assets(message: dict[str, Any]) -> list[Asset]:
    """Inline images of the body (and of a forwarded message quoted in it), code snippets
    (their code is a hostedContent too) and referenced files."""
    assets: list[Asset] = []
    seen: set[tuple[str, str]] = set()

    def hosted_in(content: str) -> None:
        for match in _HOSTED.finditer(content):
            key = ("hosted", match.group(2))
            if key not in seen:
                seen.add(key)
                assets.append(Asset("hosted", match.group(2), None, graph_relative(match.group(1))))

    hosted_in(((message.get("body") or {}).get("content")) or "")
    for attachment in message.get("attachments") or []:
        kind = (attachment.get("contentType") or "").lower()
        if kind == "forwardedmessagereference":
            hosted_in(str(_card(attachment).get("originalMessageContent") or ""))
            continue
        if kind == CODE_SNIPPET:
            card = _card(attachment)
            url = str(card.get("codeSnippetUrl") or "")
            found = _HOSTED_URL.search(url)
            if found and ("hosted", found.group(1)) not in seen:
                seen.add(("hosted", found.group(1)))
                language = str(card.get("language") or "").strip().lower()
                name = f"code-snippet.{_SNIPPET_EXT.get(language, 'txt')}"
                assets.append(Asset("hosted", found.group(1), name, graph_relative(url)))
            continue
        if attachment.get("contentType") != "reference" or not attachment.get("contentUrl"):
            continue
        key = ("reference", attachment.get("id") or attachment["contentUrl"])
        if key in seen:
            continue
        seen.add(key)
        assets.append(Asset("reference", key[1], attachment.get("name"),
                            f"/shares/{share_token(attachment['contentUrl'])}/driveItem/content"))
    return assets
