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


def test_long_lists_are_cut_in_the_reports_people_read_and_whole_in_plan_json(monkeypatch):
    """A large tenant's 100,000 chats or unmapped people would make plan.md and plan.html
    unreadable (and their building a memory peak); plan.json keeps every one."""
    import json

    from migrate.plan.build import Plan, UserLine
    from migrate.plan.chats import ChatLine
    from migrate.ui import plan_report

    monkeypatch.setattr(plan_report, "ROWS_SHOWN", 2)
    plan = Plan(as_of=None,
                users=[UserLine(f"u{i}", f"Person {i}", None, None, "no Slack account", False)
                       for i in range(5)],
                chats=[ChatLine(f"c{i}", "oneOnOne", f"Chat {i}", 2, 0, 3, "skip", "skipped")
                       for i in range(4)])
    md, page = plan_report.plan_markdown(plan), plan_report.plan_html(plan)
    for text in (md, page):
        assert "Person 1" in text and "Person 2" not in text
        assert "Chat 1" in text and "Chat 2" not in text
        assert "… and 3 more: plan.json lists every one." in text
        assert "… and 2 more: plan.json lists every one." in text
    whole = json.loads(plan.to_json())
    assert len(whole["users"]) == 5 and len(whole["chats"]) == 4
