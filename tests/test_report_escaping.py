"""Content from Teams is shown as typed in every report: never rendered as HTML or Markdown,
and links in previews work (no double escaping)."""

from __future__ import annotations

from migrate.export.records import teams_message
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
    text = render_message(teams_message(message, "c"), ctx).parts[0]
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


def test_hostile_teams_content_is_text_in_all_three_html_reports(tmp_path):
    """Names and bodies that are HTML, a `javascript:` link, RTL overrides: in plan.html, the
    run report and the verify report they show as typed (tests/ui/test_browser.py loads the
    same pages in Chromium)."""
    from .ui.browser import read_markup
    from .ui.hostile import SCRIPT, hostile_plan_html, hostile_run_html, hostile_verify_html

    pages = {"plan": hostile_plan_html(40), "run": hostile_run_html(tmp_path),
             "verify": hostile_verify_html()}
    for name, page in pages.items():
        markup = read_markup(page)
        assert markup.tags.get("script") == 1, name            # the report's own, only
        assert "img" not in markup.tags and markup.handlers == [], name
        assert all(h.startswith(("https:", "http:", "mailto:")) for h in markup.hrefs), name
        assert markup.unisolated_bidi == [], name              # an RLO cannot flip the report
        assert any(SCRIPT in text for text in markup.text), name
        assert 'dir="auto"' in page, name


def test_the_reports_own_script_and_style_are_the_only_ones_their_policy_allows():
    """The pages forbid every fetch and every script or style but their own (by hash): a
    hash that no longer matched would leave a report without its sorting and its colours."""
    import base64
    import hashlib
    import re

    from migrate.ui.html_page import page

    text = page("t", ["<p>x</p>"])
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', text).group(1)
    assert "default-src 'none'" in policy and "unsafe-inline" not in policy
    for tag in ("script", "style"):
        body = re.search(rf"<{tag}>(.*?)</{tag}>", text, re.S).group(1)
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy, tag
