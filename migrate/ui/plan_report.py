"""Plan → terminal summary (rich), Markdown, self-contained HTML and JSON reports.

The HTML report is one file with no network access needed (ui/html_page.py): inline SVG
charts (the estimated posts per day, messages per team, the largest channels), sortable and
filterable tables of channels, chats, unmapped users and renamed channels, and sample messages
of each channel rendered the way Slack shows them.
"""

from __future__ import annotations

import heapq
import html
import itertools
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from migrate.plan.build import Plan
from migrate.plan.estimate import human
from migrate.ui.html_page import bar_chart, cards, column_chart, esc, page, section, table, user

EMOJI = {"+1": "👍", "thumbsup": "👍", "heart": "❤️", "joy": "😂", "laughing": "😆",
         "open_mouth": "😮", "cry": "😢", "angry": "😠", "tada": "🎉", "100": "💯", "eyes": "👀",
         "exclamation": "❗", "rotating_light": "🚨", "paperclip": "📎", "smile": "😄",
         "fire": "🔥", "rocket": "🚀", "white_check_mark": "✅", "pray": "🙏", "clap": "👏"}
_LINK = re.compile(r"<((?:https?|mailto):[^|>\s]+)(?:\|([^>]*))?>")


def write_reports(plan: Plan, directory: Path) -> dict[str, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = {"json": directory / "plan.json", "md": directory / "plan.md",
             "html": directory / "plan.html"}
    with paths["json"].open("w", encoding="utf-8") as handle:
        plan.write_json(handle)
    paths["md"].write_text(plan_markdown(plan), encoding="utf-8")
    paths["html"].write_text(plan_html(plan), encoding="utf-8")
    return paths


# -- Markdown ------------------------------------------------------------------------------

def md_text(value: object) -> str:
    """Text from Teams in Markdown: HTML and Markdown syntax shown as typed, never rendered
    (a team named `<img src=x onerror=…>` or `**urgent**` reads as that, in any viewer)."""
    text = html.escape(str(value), quote=False).replace("\n", " ")
    return re.sub(r"([\\`*_\[\]|#!~])", r"\\\1", text)


def _md_table(headers: list[str], rows: list[list[str]]) -> str:
    def cell(value: str) -> str:
        return md_text(value)
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


CHAT_TYPE = {"oneOnOne": "1:1 chats", "group": "group chats", "meeting": "meeting chats"}
CHAT_HEADERS = ["type", "chat", "members", "with Slack", "messages", "fate", "Slack channel", "why"]
CHATS_NOTE = ("A chat's content only ever goes to a private channel whose members are exactly "
              "its members with a Slack account; a chat with more than 9 people is too large "
              "for a Slack group DM.")


# Long lists (a large tenant's chats, its unmapped people) are cut in the md and html reports,
# which people read; plan.json lists every one.
ROWS_SHOWN = 1_000


def _shown(rows: Iterable[list], total: int) -> tuple[list[list], str]:
    """The rows a report shows (the first ROWS_SHOWN of `rows`, which lists `total`), and the
    note saying how many more plan.json lists."""
    shown = list(itertools.islice(rows, ROWS_SHOWN))
    more = total - len(shown)
    return shown, (f"… and {more:,} more: plan.json lists every one." if more > 0 else "")


def _unmapped(plan: Plan) -> tuple[list[list], str]:
    rows = ([u.display_name, "yes" if u.is_guest else "", u.reason or ""]
            for u in plan.users if not u.slack_user_id)
    return _shown(rows, plan.summary()["users"].get("unmapped", 0))


def _chats(plan: Plan) -> tuple[list[list], str]:
    """The first chats by kind and label (a tenant has one for every three people: the
    smallest ROWS_SHOWN are picked as they stream by, never all sorted in memory)."""
    first = heapq.nsmallest(ROWS_SHOWN, plan.chats,
                            key=lambda c: (c.chat_type, c.label.casefold(), c.teams_chat_id))
    rows = ([CHAT_TYPE.get(c.chat_type, c.chat_type), c.label, c.members, c.mapped_members,
             c.messages, "private channel" if c.action == "channel" else "skipped",
             f"#{c.slack_name}" if c.slack_name else "—",
             c.reason + ("; too large for a Slack group DM" if c.larger_than_group_dm else "")]
            for c in first)
    return _shown(rows, len(plan.chats))


def plan_markdown(plan: Plan) -> str:
    s = plan.summary()
    chats, more_chats = _chats(plan)
    unmapped, more_unmapped = _unmapped(plan)
    est = plan.estimate
    out = ["# Migration plan", "", f"Teams data as of {plan.as_of or 'never exported'}.", "",
           "## Summary", "",
           _md_table(["", "count"], [
               ["users mapped", str(s["users"].get("mapped", 0))],
               ["users unmapped", str(s["users"].get("unmapped", 0))],
               ["users ambiguous", str(s["users"].get("ambiguous", 0))],
               ["channels to create", str(s["channels"].get("create", 0))],
               ["channels reused", str(s["channels"].get("reuse", 0))],
               ["channels renamed", str(s["channels"].get("renamed", 0))],
               ["channels skipped", str(s["channels"].get("skip", 0))],
               ["messages to post", str(s["messages"]["to_post"])],
               ["posts (with continuations)", str(s["messages"]["posts"])],
               ["files to upload", f"{s['files']['to_upload']} ({s['files']['bytes']:,} bytes)"],
               ["files skipped", str(s["files"]["skipped"])],
               ["chats found", str(sum(s["chats"]["found"].values()))],
               ["chats to private channels", str(s["chats"]["to_channels"])],
               ["chats skipped", f"{s['chats']['skipped']} ({s['chats']['messages_skipped']} "
                                 "messages)"],
               ["estimated duration", human(est.seconds) if est else "—"]]), ""]
    if est and est.phases:
        out += ["## Estimated run, phase by phase", "", _md_table(
            ["phase", "estimate"], [[name, human(seconds)] for name, seconds in est.phases.items()]
            + [["total", human(est.seconds)]]), "", f"Bound by {est.binding}; channel setup "
            "runs beside the posting.", ""]
    if est and est.advice:
        out += ["## Advice", ""] + [f"- {a}" for a in est.advice] + [""]
    out += ["## Channels", "", _md_table(
        ["team", "Teams channel", "action", "Slack channel", "private", "invites", "posts", "files", "note"],
        [[c.team_name, c.channel_name, c.action, f"#{c.slack_name}" if c.slack_name else "—",
          "yes" if c.is_private else "", str(len(c.invite)), str(c.posts), str(c.uploads),
          "; ".join(filter(None, [f"renamed from {c.renamed_from}" if c.renamed_from else "",
                                  c.reason or "", "archived after import" if c.archive_after else ""]))]
         for c in plan.channels]), ""]
    out += ["## Chats", "", CHATS_NOTE, "", _md_table(
        CHAT_HEADERS, [[str(v) for v in row] for row in chats]) + (f"\n\n{more_chats}" if more_chats else "")
        if plan.chats else "None exported.", ""]
    out += ["## Unmapped users", "",
            "Their messages are still migrated, under their display name.", "",
            _md_table(["Teams user", "guest", "reason"], unmapped)
            + (f"\n\n{more_unmapped}" if more_unmapped else "") if unmapped else "None.", ""]
    out += ["## Skipped", "", _md_table(["kind", "reason", "count"], [
        [kind, reason, str(n)] for (kind, reason), n in sorted(plan.tally.skips.items())])
        if plan.skips
        else "Nothing.", ""]
    out += ["## Warnings", "", _md_table(["kind", "count", "examples"], [
        [kind, str(n), "; ".join(plan.warning_samples.get(kind, [])[:3])]
        for kind, n in plan.warnings.items()]) if plan.warnings else "None.", ""]
    return "\n".join(out)


# -- HTML ----------------------------------------------------------------------------------

def mrkdwn_html(text: str) -> str:
    """Slack's rendering of our mrkdwn, for previews. Our text already escapes & < > (Slack's
    own escaping is valid HTML), so only the markup we emit needs translating."""
    links: list[str] = []

    def keep_link(match: re.Match) -> str:
        # The URL is mrkdwn text: `&` already written `&amp;`. Escaping it again gave
        # `&amp;amp;` (a broken link); only safe schemes become links.
        url, label = match.group(1), match.group(2) or match.group(1)
        target = html.unescape(url)
        if not re.match(r"(?i)^(https?:|mailto:)", target):
            return label
        links.append(f'<a href="{html.escape(target, quote=True)}">{label}</a>')
        return f"\x00{len(links) - 1}\x00"

    text = _LINK.sub(keep_link, text)
    blocks: list[str] = []

    def keep_code(match: re.Match) -> str:
        blocks.append(f"<pre>{match.group(1)}</pre>")
        return f"\x01{len(blocks) - 1}\x01"

    text = re.sub(r"```\n?(.*?)```", keep_code, text, flags=re.S)
    text = re.sub(r"`([^`\n]+)`", r"<code>\1</code>", text)
    text = re.sub(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])", r"<b>\1</b>", text)
    text = re.sub(r"(?<![\w_])_([^_\n]+)_(?![\w_])", r"<i>\1</i>", text)
    text = re.sub(r"(?<![\w~])~([^~\n]+)~(?![\w~])", r"<s>\1</s>", text)
    text = re.sub(r":([a-z0-9_+\-]+):", lambda m: EMOJI.get(m.group(1), m.group(0)), text)
    lines = []
    for line in text.split("\n"):
        lines.append(f"<blockquote>{line[5:]}</blockquote>" if line.startswith("&gt; ") else line)
    text = "<br>".join(lines)
    text = re.sub(r"\x01(\d+)\x01", lambda m: blocks[int(m.group(1))], text)
    return re.sub(r"\x00(\d+)\x00", lambda m: links[int(m.group(1))], text)


def _more(note: str) -> str:
    return f'<p class="muted">{esc(note)}</p>' if note else ""


def _open(rows: int) -> bool:
    """Sections start unfolded unless long (a click, or a link with a filter, unfolds them)."""
    return rows <= 100


def plan_html(plan: Plan, samples_per_channel: int = 6) -> str:
    s = plan.summary()
    est = plan.estimate
    per_team: Counter = Counter()
    for c in plan.channels:
        per_team[c.team_name] += c.posts
    body = [f"<h1>Migration plan</h1><p>Teams data as of {esc(plan.as_of or 'never exported')}."
            " Nothing has been written to Slack.</p>",
            cards([("users mapped", s["users"].get("mapped", 0)),
                   ("unmapped", s["users"].get("unmapped", 0)), ("channels", len(plan.channels)),
                   ("renamed", s["channels"].get("renamed", 0)),
                   ("messages", s["messages"]["to_post"]), ("files", s["files"]["to_upload"]),
                   ("chats", len(plan.chats)), ("estimate", human(est.seconds) if est else "—")])]
    if est and est.advice:
        body.append(section("Advice", "<ul>" + "".join(f"<li>{esc(a)}</li>" for a in est.advice)
                            + "</ul>", sid="advice"))
    if est:
        phases = ", ".join(f"{name} {human(seconds)}" for name, seconds in est.phases.items())
        body.append(section("Estimated timeline", (
            f"<p>{human(est.seconds)} in all ({esc(phases)}); channel setup "
            f"{human(est.setup_seconds)} at its tiers, beside the posting (posting alone "
            f"{human(est.posting_seconds)}); bound by {esc(est.binding)}. Posts per day of the "
            "run:</p>" + column_chart(est.per_day, "posts per day of the run (estimate)")),
            sid="timeline"))
    body.append(section("Messages per team", bar_chart(per_team.most_common(), "messages per team")
                        or "<p>None.</p>", count=len(per_team), sid="per-team"))
    body.append(section("Largest channels", bar_chart(
        [(f"{c.team_name} › {c.channel_name}", c.posts) for c in plan.channels if c.posts],
        "posts per channel") or "<p>None.</p>", sid="largest"))
    body.append(section("Channels", table(
        ["team", "Teams channel", "action", "Slack channel", "private", "invites", "posts", "files",
         "note"],
        [[c.team_name, c.channel_name, c.action, f"#{c.slack_name}" if c.slack_name else "—",
          c.is_private, len(c.invite), c.posts, c.uploads,
          "; ".join(filter(None, [f"renamed from {c.renamed_from}" if c.renamed_from else "",
                                  c.reason or "", "archived after import" if c.archive_after else ""]))]
         for c in plan.channels], tid="channels"),
        count=len(plan.channels), open=_open(len(plan.channels)), sid="channels-section"))
    renamed = [c for c in plan.channels if c.renamed_from]
    body.append(section("Renamed channels", table(
        ["team", "Teams channel", "plain name", "Slack name", "why"],
        [[c.team_name, c.channel_name, c.renamed_from, c.slack_name or "—", c.reason or "collision"]
         for c in renamed], tid="renamed") if renamed else "<p>None.</p>",
        count=len(renamed), open=_open(len(renamed)), sid="renamed-section"))
    found = Counter(c.chat_type for c in plan.chats)
    chats, more_chats = _chats(plan)
    body.append(section("Chats", "<p>" + esc(CHATS_NOTE) + "</p><p>"
                        + esc(", ".join(f"{n} {CHAT_TYPE.get(k, k)}" for k, n in sorted(found.items()))
                              or "None exported.") + "</p>"
                        + (table(CHAT_HEADERS, chats, tid="chats") + _more(more_chats)
                           if plan.chats else ""),
                        count=len(plan.chats), open=_open(len(chats)), sid="chats-section"))
    unmapped, more_unmapped = _unmapped(plan)
    body.append(section("Unmapped users", "<p>Their messages are still migrated under their "
                        "display name.</p>" + (table(["Teams user", "guest", "reason"], unmapped,
                                                     tid="unmapped") + _more(more_unmapped)
                                               if unmapped else "<p>None.</p>"),
                        count=s["users"].get("unmapped", 0), open=_open(len(unmapped)),
                        sid="unmapped-section"))
    skips = sorted(plan.tally.skips.items()) if plan.skips else []
    body.append(section("Skipped", table(["kind", "reason", "count"],
                                         [[kind, reason, n] for (kind, reason), n in skips],
                                         tid="skipped") if skips else "<p>Nothing.</p>",
                        count=sum(n for _, n in skips), open=_open(len(skips)),
                        sid="skipped-section"))
    body.append(section("Warnings", table(["kind", "count", "examples"], [
        [k, n, "; ".join(plan.warning_samples.get(k, [])[:3])] for k, n in plan.warnings.items()],
        tid="warnings") if plan.warnings else "<p>None.</p>", count=sum(plan.warnings.values()),
        open=_open(len(plan.warnings)), sid="warnings-section"))
    previews = []
    for c in plan.channels[:ROWS_SHOWN]:
        posts = plan.posts.head(c.teams_channel_id, samples_per_channel)
        if not posts:
            continue
        items = "".join(
            f'<div class="msg{" reply" if p.root_id else ""}"><div class="avatar"></div><div>'
            f'<div class="who">{user(p.username)}<small>APP</small></div>'
            f'<div dir="auto">{mrkdwn_html(p.text)}</div></div></div>' for p in posts)
        previews.append(f'<div class="channel"><h3>#{user(c.slack_name or "")} <small>('
                        f"{user(c.team_name)} / {user(c.channel_name)})</small></h3>{items}</div>")
    cut = f" (the first {ROWS_SHOWN:,} channels)" if len(plan.channels) > ROWS_SHOWN else ""
    body.append(section("Preview", f"<p>The first messages of each channel, as Slack will show "
                        f"them{cut}.</p>" + "".join(previews), count=len(previews),
                        open=_open(len(previews)), sid="preview"))
    return page("Migration plan", body)
