"""Teams message HTML → Slack mrkdwn: one parse into a small tree (`markup.parse`), one walk.

Every piece of source text is escaped (`&` `<` `>`) where it is read, so the only Slack syntax in
the result is the syntax emitted here: `<url|text>` links, `*` `_` `~` `` ` `` markers, `>` at
line starts, `:emoji:`, and code fences (``` runs in source text are broken). Mentions become
plain `@Name` text: nothing from the source may notify anyone in Slack.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from migrate.model import TeamsAttachment, TeamsMention
from migrate.transform.cards import render_attachment
from migrate.transform.content_model import FileRef
from migrate.transform.markup import (
    ANY_TAG,
    BLOCK,
    BOLD,
    BREAKS,
    BULLETS,
    CODE,
    COLLAPSE_WS,
    HEADINGS,
    HOSTED_SRC,
    ITALIC,
    MEDIA,
    PROTECT,
    SILENT,
    SOFT,
    SPACE_RUNS,
    STRIKE,
    TRANSPARENT,
    WS,
    Node,
    collapse,
    display_width,
    escape_text,
    flatten,
    flush,
    linkable,
    parse,
    quote_lines,
    short_name,
    slack_link,
    tidy,
    wrap,
)


class State(NamedTuple):
    bold: bool = False
    italic: bool = False
    strike: bool = False
    plain: bool = False      # no mrkdwn markers (inline code, link text, table cells)
    depth: int = 0           # list nesting


TOP = State()
# Inline elements whose block content is laid out by the walk itself ("expanded" into their
# parent's blocks): everything but these.
_NOT_EXPANDED = BLOCK | BOLD | ITALIC | STRIKE | CODE | SILENT | MEDIA | {"a", "at"}


def _unquoted(lines: list[str]) -> list[str]:
    """Lines that go inside a list: a quote marker only works at the start of a line, and
    indented or after a bullet it would be a raw '>' (Slack shows it as text anyway), so it is
    written escaped."""
    return [f"&gt;{line[1:]}" if line.startswith(">") else line for line in lines]


class Walker:
    """One message's conversion: collects files to upload and warnings on the way."""

    def __init__(self, ctx: Any, mentions: Sequence[TeamsMention] = (),
                 attachments: Sequence[TeamsAttachment] = (), depth: int = 0) -> None:
        self.ctx = ctx
        self.depth = depth
        self.mentions = {m.at_id: m for m in mentions}
        self.attachments: dict[str, TeamsAttachment] = {}
        for att in attachments:
            self.attachments.setdefault(att.id or att.content_url or f"#{len(self.attachments)}", att)
        self.used: set[str] = set()
        self.files: list[FileRef] = []
        self.warnings: list[tuple[str, str]] = []

    def warn(self, kind: str, detail: str) -> None:
        if (kind, detail) not in self.warnings:
            self.warnings.append((kind, detail))

    def add_file(self, ref: FileRef) -> None:
        if all((f.source, f.source_id) != (ref.source, ref.source_id) for f in self.files):
            self.files.append(ref)

    def convert(self, html: str) -> list[str]:
        lines = self.block(parse(html).children, TOP)
        for key, attachment in self.attachments.items():
            if key not in self.used:
                self.used.add(key)
                lines.extend(self.attachment(attachment))
        return lines

    def attachment(self, attachment: TeamsAttachment) -> list[str]:
        try:
            return render_attachment(attachment, self)
        except Exception:  # one odd card must not stop a migration: say so, go on
            kind = attachment.content_type or "attachment"
            self.warn("attachment_not_rendered", kind)
            return [escape_text(f"[{kind}]")]

    def nested(self, html: str) -> list[str]:
        """Lines of HTML quoted inside this message (a forwarded message)."""
        if self.depth >= 3:
            return [escape_text(collapse(ANY_TAG.sub(" ", html)))]
        inner = Walker(self.ctx, depth=self.depth + 1)
        inner.files, inner.warnings = self.files, self.warnings
        return tidy(inner.block(parse(html).children, TOP), keep_marks=True)

    # -- blocks ----------------------------------------------------------------------------

    def _expand(self, children: list):
        for child in children:
            if (isinstance(child, Node) and child.tag not in _NOT_EXPANDED and child.has_block()):
                if child.tag not in TRANSPARENT:
                    self.warn("unknown_tag", child.tag)
                yield from self._expand(child.children)
            else:
                yield child

    def block(self, children: list, st: State) -> list[str]:
        lines: list[str] = []
        run: list = []
        for child in self._expand(children):
            if isinstance(child, Node) and child.tag in BLOCK:
                if run:
                    lines.extend(flush(self.inline(run, st)))
                    run = []
                lines.extend(self.block_element(child, st))
            else:
                run.append(child)
        if run:
            lines.extend(flush(self.inline(run, st)))
        return lines

    def block_element(self, node: Node, st: State) -> list[str]:
        tag = node.tag
        if tag in ("pre", "codeblock") or (
                tag == "p" and "schema.skype.com/CodeBlockEditor" in node.attrs.get("itemtype", "")):
            return self.code_block(node, st)
        if tag in ("ul", "ol"):
            return self.list_block(node, st)
        if tag == "li":
            return self.list_block(Node("ul", {}), st, [node])
        if tag == "blockquote":
            inner = tidy(self.block(node.children, st), keep_marks=True)
            return inner if st.plain else quote_lines(inner)
        if tag == "table" and not st.plain:
            return self.table(node, st)
        if tag in HEADINGS:
            lines = self.block(node.children, st._replace(bold=True))
            return lines if st.bold or st.plain else [wrap(line, "*") for line in lines]
        if tag == "hr":
            return ["---"]
        if tag == "attachment":
            key = node.attrs.get("id", "")
            if key not in self.attachments:
                self.warn("missing_attachment", key)
                return []
            if key in self.used:
                return []
            self.used.add(key)
            return self.attachment(self.attachments[key])
        return self.block(node.children, st)

    def code_text(self, node: Node, out: list[str]) -> None:
        for child in node.children:
            if isinstance(child, str):
                out.append(child)
            elif child.tag == "br":
                out.append("\n")
            elif child.tag in SILENT or child.tag in MEDIA:
                continue
            elif child.tag == "emoji" or (child.tag == "img" and "Emoji" in child.attrs.get("itemtype", "")):
                out.append(child.attrs.get("alt", ""))
            elif child.tag == "img":
                continue
            elif child.tag in BLOCK:
                if out and not out[-1].endswith("\n"):
                    out.append("\n")
                self.code_text(child, out)
                if out and not out[-1].endswith("\n"):
                    out.append("\n")
            else:
                self.code_text(child, out)

    def code_block(self, node: Node, st: State) -> list[str]:
        parts: list[str] = []
        self.code_text(node, parts)
        lines = "".join(parts).replace("\r\n", "\n").replace("\r", "\n").replace("\xa0", " ").split("\n")
        while lines and not lines[0].strip():
            lines.pop(0)
        while lines and not lines[-1].strip():
            lines.pop()
        if st.plain:
            return [escape_text(line) for line in lines]
        if not lines:
            return []
        return [PROTECT + "```", *(PROTECT + escape_text(line) for line in lines), PROTECT + "```"]

    def list_block(self, node: Node, st: State, items: list | None = None) -> list[str]:
        ordered = node.tag == "ol"
        try:
            number = int(node.attrs.get("start") or 1)
        except ValueError:
            number = 1
        inner = st._replace(depth=st.depth + 1)
        lines: list[str] = []
        for child in node.children if items is None else items:
            if isinstance(child, Node) and child.tag == "li":
                item = _unquoted(self.block(child.children, inner))
                marker = f"{number}." if ordered else BULLETS[st.depth % len(BULLETS)]
                number += 1
                pad = " " * (len(marker) + 1)
                lines.append(f"{marker} {item[0]}" if item else marker)
                lines.extend(pad + line if line else "" for line in item[1:])
            elif isinstance(child, Node) and child.tag in ("ul", "ol"):
                lines.extend("  " + line if line else ""
                             for line in _unquoted(self.list_block(child, inner)))
            else:   # stray content of the list (not in an item), e.g. a quote
                lines.extend(_unquoted(self.block([child], st)))
        return lines

    def table(self, node: Node, st: State) -> list[str]:
        rows: list[tuple[list[str], bool]] = []
        cell_state = st._replace(plain=True)
        captions = [line for child in node.children if isinstance(child, Node) and child.tag == "caption"
                    for line in self.block(child.children, st)]
        for tr in _rows(node):
            cells, header = [], False
            for cell in tr.children:
                if isinstance(cell, Node) and cell.tag in ("td", "th"):
                    texts = (line.replace(PROTECT, "").strip() for line in self.block(cell.children, cell_state))
                    cells.append(flatten(SPACE_RUNS.sub(" ", " ".join(t for t in texts if t))))
                    header = header or cell.tag == "th"
            if any(cells):
                rows.append((cells, header))
        if not rows:
            return captions
        columns = max(len(cells) for cells, _ in rows)
        widths = [max((display_width(cells[i]) for cells, _ in rows if i < len(cells)), default=0)
                  for i in range(columns)]
        out = [*captions, PROTECT + "```"]
        for index, (cells, header) in enumerate(rows):
            padded = [text + " " * (widths[i] - display_width(text)) for i, text in enumerate(cells)]
            out.append(PROTECT + " | ".join(padded).rstrip())
            if header and index == 0:
                out.append(PROTECT + "-+-".join("-" * w for w in widths))
        out.append(PROTECT + "```")
        return out

    # -- inline ----------------------------------------------------------------------------

    def inline(self, children: list, st: State) -> str:
        out: list[str] = []
        i = 0
        while i < len(children):
            child = children[i]
            if isinstance(child, str):
                out.append(escape_text(COLLAPSE_WS.sub(" ", child)))
                i += 1
            elif child.tag == "at":
                text, i = self.mention(children, i)
                out.append(text)
            else:
                out.append(self.inline_element(child, st))
                i += 1
        return "".join(out)

    def inline_element(self, node: Node, st: State) -> str:
        tag = node.tag
        if tag == "br":
            return "\n"
        if tag in BOLD:
            return self.styled(node, st, "bold", "*")
        if tag in ITALIC:
            return self.styled(node, st, "italic", "_")
        if tag in STRIKE:
            return self.styled(node, st, "strike", "~")
        if tag in CODE:
            inner = self.inline(node.children, st._replace(plain=True))
            return inner if st.plain else wrap(inner, "`")
        if tag == "a":
            return self.link(node, st)
        if tag == "emoji":
            return self.emoji(node.attrs.get("id", ""), node.attrs)
        if tag == "customemoji":
            alt = node.attrs.get("alt", "")
            self.warn("custom_emoji", alt or node.attrs.get("id", ""))
            name = short_name(alt)
            return f":{name}:" if name else escape_text(alt)
        if tag == "img":
            return self.image(node, st)
        if tag in BLOCK:
            return SOFT + "\n".join(self.block_element(node, st)) + SOFT
        if tag in SILENT:
            return ""
        if tag in MEDIA:
            self.warn("dropped_element", tag)
            return ""
        if tag not in TRANSPARENT:
            self.warn("unknown_tag", tag)
        return self.inline(node.children, st)

    def styled(self, node: Node, st: State, flag: str, mark: str) -> str:
        if st.plain or getattr(st, flag):
            return self.inline(node.children, st)
        return wrap(self.inline(node.children, st._replace(**{flag: True})), mark)

    def link(self, node: Node, st: State) -> str:
        href = node.attrs.get("href", "").strip()
        label = flatten(self.inline(node.children, st._replace(plain=True)).replace(PROTECT, ""))
        label = SPACE_RUNS.sub(" ", BREAKS.sub(" ", label))
        core = label.strip(WS)
        if st.plain or not linkable(href):
            return label
        start = len(label) - len(label.lstrip(WS))
        return f"{label[:start]}{slack_link(href, core.replace(chr(0xa0), ' '))}{label[start + len(core):]}"

    def mention(self, children: list, i: int) -> tuple[str, int]:
        """`<at>` → `@Name`; a run of `<at>`s naming the same identity (per-word) is one mention."""
        first = self.mentions.get(children[i].attrs.get("id", ""))
        key = _identity(first)
        words = [_text_of(children[i])]
        j = i + 1
        while key is not None and j < len(children):
            k = j + 1 if isinstance(children[j], str) and not children[j].strip(WS + "\n\r\f") else j
            nxt = children[k] if k < len(children) else None
            if not (isinstance(nxt, Node) and nxt.tag == "at"
                    and _identity(self.mentions.get(nxt.attrs.get("id", ""))) == key):
                break
            words.append(_text_of(nxt))
            j = k + 1
        name = " ".join(w for w in words if w) or _mention_name(first, self.ctx)
        return "@" + escape_text(name.lstrip("@")), j

    def emoji(self, key: str, attrs: Mapping[str, str]) -> str:
        """The `alt` is the character the reader saw, so it is kept (Slack shows Unicode
        emoji); the short-name mapping is only for an emoji without one; then the title."""
        alt = attrs.get("alt", "").strip()
        if alt:
            return escape_text(alt)
        mapped = self.ctx.emoji.get(key) or self.ctx.emoji.get(key.lower()) if key else None
        name = short_name(mapped) if mapped else ""
        return f":{name}:" if name else escape_text(attrs.get("title", "").strip())

    def image(self, node: Node, st: State) -> str:
        attrs = node.attrs
        if "schema.skype.com/Emoji" in attrs.get("itemtype", ""):
            return self.emoji(attrs.get("itemid") or attrs.get("id", ""), attrs)
        src = attrs.get("src", "").strip()
        alt = collapse(attrs.get("alt", ""))
        label = escape_text("[image]" if alt.lower() in ("", "image") else f"[image: {alt}]")
        hosted = HOSTED_SRC.search(src)
        if hosted:
            self.add_file(FileRef("hosted", hosted.group(1), None))
        elif src.lower().startswith(("http://", "https://")):
            return label if st.plain else slack_link(src, label)
        else:
            self.warn("image_not_migrated", (src.split(":", 1)[0] + " URI") if ":" in src[:12] else "no source")
        return label


def _rows(table: Node):
    for child in table.children:
        if isinstance(child, Node):
            if child.tag == "tr":
                yield child
            elif child.tag in ("thead", "tbody", "tfoot"):
                yield from (c for c in child.children if isinstance(c, Node) and c.tag == "tr")


def _text_of(node: Node) -> str:
    parts: list[str] = []

    def walk(n: Node) -> None:
        for child in n.children:
            if isinstance(child, str):
                parts.append(child)
            else:
                walk(child)
    walk(node)
    return collapse("".join(parts))


def _identity(mention: TeamsMention | None) -> tuple[str, str] | None:
    for ident in mention.mentioned if mention is not None else ():
        if ident.id:
            return ident.kind, ident.id
    return None


def _mention_name(mention: TeamsMention | None, ctx: Any) -> str:
    if mention is None:
        return "unknown"
    if mention.text:
        return mention.text.strip()
    for ident in mention.mentioned:
        if ident.display_name:
            return ident.display_name
        if ident.kind == "user" and ident.id and ctx.users.get(ident.id):
            return ctx.users[ident.id]
    return "unknown"
