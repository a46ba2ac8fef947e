"""The files a message carries, as the exporter records them and as the converter asks to
upload them: code snippets (a hostedContent behind a card) and images inside a forwarded
message count too, so their bytes are downloaded and uploaded rather than skipped."""

from __future__ import annotations

import json

from migrate.export.assets import message_assets
from migrate.export.records import teams_message
from migrate.transform.content import RenderContext, render_message

BASE = "https://graph.microsoft.com/v1.0/teams/T1/channels/19:c@thread.tacv2/messages/1700000000000"


def _message(**extra):
    return {"id": "1700000000000", "createdDateTime": "2024-01-01T10:00:00Z",
            "from": {"user": {"id": "u1", "displayName": "Ann"}}, "messageType": "message",
            "body": {"contentType": "html", "content": '<p>See below <attachment id="a1"></attachment></p>'},
            **extra}


def test_a_code_snippet_is_a_file_named_by_its_language():
    card = {"codeSnippetUrl": f"{BASE}/hostedContents/aWQ9c25pcHBldA==/$value", "language": "Python",
            "wrapText": True}
    message = _message(attachments=[{"id": "a1", "contentType": "application/vnd.microsoft.card.codesnippet",
                                     "content": json.dumps(card)}])
    [asset] = message_assets(message)
    assert (asset.source, asset.source_id, asset.name) == ("hosted", "aWQ9c25pcHBldA==", "code-snippet.py")
    assert asset.url.startswith("/teams/T1/channels/") and asset.url.endswith("/$value")
    rendered = render_message(teams_message(message, "c"), RenderContext(users={"u1": "Ann"}), has_replies=False)
    assert {(f.source, f.source_id) for f in rendered.files} == {("hosted", "aWQ9c25pcHBldA==")}


def test_images_inside_a_forwarded_message_are_files_too():
    original = f'<p>chart:</p><img src="{BASE}/hostedContents/aW1n/$value" alt="chart">'
    card = {"originalMessageContent": original, "originalSentDateTime": "2024-01-01T09:00:00Z",
            "originalMessageSender": {"user": {"id": "u1", "displayName": "Ann"}}}
    message = _message(attachments=[{"id": "a1", "contentType": "forwardedMessageReference",
                                     "content": json.dumps(card)}])
    assert [(a.source, a.source_id) for a in message_assets(message)] == [("hosted", "aW1n")]
    rendered = render_message(teams_message(message, "c"), RenderContext(users={"u1": "Ann"}), has_replies=False)
    assert {(f.source, f.source_id) for f in rendered.files} == {("hosted", "aW1n")}


def test_an_unknown_snippet_language_is_plain_text_and_broken_cards_are_ignored():
    card = {"codeSnippetUrl": f"{BASE}/hostedContents/eA==/$value", "language": "cobol"}
    message = _message(attachments=[
        {"id": "a1", "contentType": "application/vnd.microsoft.card.codesnippet", "content": json.dumps(card)},
        {"id": "a2", "contentType": "forwardedMessageReference", "content": "{not json"}])
    assert [a.name for a in message_assets(message)] == ["code-snippet.txt"]
