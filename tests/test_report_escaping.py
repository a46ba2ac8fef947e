"""Content from Teams is shown as typed in every report: never rendered as HTML or Markdown,
and links in previews work (no double escaping)."""

from __future__ import annotations

from migrate.transform.content import RenderContext, render_message
from migrate.ui.plan_report import _md_table, md_text, mrkdwn_html

HOSTILE = '<img src=x onerror="alert(1)"> **urgent** | [x](javascript:alert(1)) R&D'


def test_names_reach_markdown_as_typed():
    cell = md_text(HOSTILE)
    assert "<img" not in cell and "&lt;img" in cell
    assert "\\*\\*urgent\\*\\*" in cell and "\\|" in cell and "\\[x\\]" in cell
    assert "R&amp;D" in cell
    table = _md_table(["team"], [[HOSTILE]])
    assert table.count("\n") == 2          # one row: the pipe inside did not split it


def test_preview_links_are_not_double_escaped():
    ctx = RenderContext(users={})
    body = ('<p><a href="https://example.com/search?q=a&amp;lang=en">R&amp;D search</a> '
            'and R&amp;D</p>')
    message = {"id": "1", "messageType": "message", "body": {"contentType": "html", "content": body},
               "attachments": [], "mentions": [], "reactions": [], "from": None,
               "createdDateTime": "2024-01-01T00:00:00Z"}
    text = render_message(message, ctx).parts[0]
    preview = mrkdwn_html(text)
    assert 'href="https://example.com/search?q=a&amp;lang=en"' in preview
    assert "&amp;amp;" not in preview
    assert ">R&amp;D search</a>" in preview           # shows "R&D search" in a browser


def test_only_safe_link_schemes_become_links():
    assert "<a " not in mrkdwn_html("<javascript:alert(1)|click>")


def test_the_demo_preview_reads_as_slack_shows_it():
    from migrate.sandbox.demo import as_slack_shows

    assert as_slack_shows("R&amp;D &lt;b&gt; <https://x.org/?a=1&amp;b=2|the site>") == \
        "R&D <b> the site"
