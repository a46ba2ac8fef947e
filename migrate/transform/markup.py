"""Slack text primitives and the HTML tree for the content transform.

Escaping (https://docs.slack.dev/messaging/formatting-message-text), links, and the line model
of the walk in `html_walk`: inline content is a string in which "\\n" is a hard line break
(`<br>`) and SOFT a block boundary met inside inline content (a break unless at a line start);
`flush` turns such a string into lines the way a browser lays out a block — collapsible
whitespace goes, `&nbsp;` keeps an otherwise empty line. Lines that must stay exactly as they
are (code, tables) carry PROTECT, removed when the text is finished.
"""

from __future__ import annotations

import re
import unicodedata
from html.parser import HTMLParser
from urllib.parse import quote

PROTECT = "\x00"   # in a line: keep it exactly (code block and table lines)
SOFT = "\x01"      # in inline text: a block boundary
WS = " \xa0\t"
BULLETS = ("•", "◦", "▪")
MAX_DEPTH = 100    # deeper HTML is flattened into its ancestor at this depth

CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
COLLAPSE_WS = re.compile(r"[ \t\n\r\f]+")
SPACE_RUNS = re.compile(r" {2,}")
BREAKS = re.compile(r"([\n\x01])")
HOSTED_SRC = re.compile(r"/hostedContents/([^/?#\s\"']+)/\$value", re.I)
_LINKABLE = re.compile(r"(?i)(?:https?://|mailto:)\S")
_URL_UNSAFE = re.compile(r"[\s<>|\"`\x00-\x1f\x7f]")
ANY_TAG = re.compile(r"<[^<>]*>")
_OUR_LINK = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")
_QUOTE_PREFIX = re.compile(r"(?:>[ \xa0]*)+")
_FENCE_RUN = re.compile(r"`(?=``)")
_NAME_UNSAFE = re.compile(r"[^a-z0-9_+'\-]+")


def _tags(names: str) -> frozenset[str]:
    return frozenset(names.split())


VOID = _tags("area base br col embed hr img input keygen link meta param source track wbr")
BLOCK = _tags("p div section article header footer main aside nav figure figcaption address center "
              "dl dt dd details summary form fieldset legend h1 h2 h3 h4 h5 h6 ul ol li blockquote "
              "pre codeblock table thead tbody tfoot tr td th caption hr attachment")
HEADINGS = _tags("h1 h2 h3 h4 h5 h6")
BOLD, ITALIC, STRIKE = _tags("b strong"), _tags("i em"), _tags("s strike del")
CODE = _tags("code kbd samp tt")
# Rendered as their content. Underline is among them: Slack mrkdwn has no underline.
TRANSPARENT = _tags("span font u ins small big mark abbr acronym cite sub sup label time q bdi bdo "
                    "dfn data var html body o:p nobr")
SILENT = _tags("script style head title template noscript meta link input wbr col colgroup "
               "systemeventmessage base param source track")
MEDIA = _tags("iframe object embed video audio canvas svg button select textarea map area")


def escape(text: str) -> str:
    """Slack's escaping: `&`, `<` and `>`, and only them
    (https://docs.slack.dev/messaging/formatting-message-text)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_text(text: str) -> str:
    """Source text for Slack: escaped, and with no ``` run left (a zero-width space breaks it),
    so that the only code fences in a message are the ones written here."""
    return _FENCE_RUN.sub("`\u200b", escape(text))


def flatten(text: str) -> str:
    """Mrkdwn made into plain text for places where Slack syntax cannot nest (link labels,
    table cells): links become their label, other `<`/`>` (quote markers) are escaped."""
    text = _OUR_LINK.sub(lambda m: m.group(2) if m.group(2) is not None else m.group(1), text)
    return text.replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def collapse(text: str) -> str:
    return SPACE_RUNS.sub(" ", COLLAPSE_WS.sub(" ", text).replace("\xa0", " ")).strip()


def short_name(name: str) -> str:
    """A string made safe as a Slack `:short_name:` (empty when nothing is left)."""
    return _NAME_UNSAFE.sub("-", name.strip(": ").lower()).strip("-")


def slack_link(url: str, label: str = "") -> str:
    """`<url|label>` (label already escaped); `<url>` when the label is the URL or empty."""
    safe = escape(_URL_UNSAFE.sub(lambda m: quote(m.group(), safe=""), url.strip()))
    if not label or unescape(label) == url.strip():
        return f"<{safe}>"
    return f"<{safe}|{label}>"


def linkable(url: str) -> bool:
    return bool(_LINKABLE.match(url.strip()))


def display_width(text: str) -> int:
    """Columns the (escaped) text takes in a monospace block."""
    width = 0
    for ch in unescape(text):
        if unicodedata.combining(ch) or ch in "\u200b\u200d\ufe0f":
            continue
        width += 2 if unicodedata.east_asian_width(ch) in "WF" else 1
    return width


def quote_lines(lines: list[str]) -> list[str]:
    return [line if line.startswith(">") else (f"> {line}" if line else ">") for line in lines]


# -- parsing ---------------------------------------------------------------------------------

class Node:
    __slots__ = ("tag", "attrs", "children", "_block")

    def __init__(self, tag: str, attrs: dict[str, str]) -> None:
        self.tag, self.attrs, self.children = tag, attrs, []
        self._block: bool | None = None

    def has_block(self) -> bool:
        if self._block is None:
            self._block = any(isinstance(c, Node) and (c.tag in BLOCK or c.has_block())
                              for c in self.children)
        return self._block


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", {})
        self.stack = [self.root]

    def _close(self, tag: str, scope: tuple[str, ...]) -> None:
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return
            if self.stack[i].tag in scope:
                return

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "li":
            self._close("li", ("ul", "ol"))
        elif tag in ("td", "th"):
            self._close("td", ("tr", "table"))
            self._close("th", ("tr", "table"))
        elif tag == "tr":
            self._close("tr", ("table",))
        elif tag == "p" and self.stack[-1].tag == "p":
            self.stack.pop()
        node = Node(tag, {k: CONTROL_CHARS.sub("", v or "") for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in VOID and len(self.stack) < MAX_DEPTH:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Node(tag, {k: CONTROL_CHARS.sub("", v or "") for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        self._close(tag, ())

    def handle_data(self, data: str) -> None:
        top = self.stack[-1]
        if top.tag in ("script", "style"):
            return
        data = CONTROL_CHARS.sub("", data)
        if top.children and isinstance(top.children[-1], str):
            top.children[-1] += data
        elif data:
            top.children.append(data)


def parse(html: str) -> Node:
    builder = _TreeBuilder()
    try:
        builder.feed(html)
        builder.close()
    except Exception:  # a parser surprise must not lose the message: keep its text
        root = Node("#root", {})
        root.children.append(CONTROL_CHARS.sub("", ANY_TAG.sub(" ", html)))
        return root
    return builder.root


def flush(text: str) -> list[str]:
    """Inline text → lines, laid out as a browser lays out one block."""
    lines: list[str] = []
    current: list[str] = []
    for piece in BREAKS.split(text):
        if piece == "\n":
            lines.append("".join(current))
            current = []
        elif piece == SOFT:
            line = "".join(current)
            if line.strip(" \t\r\f"):
                lines.append(line)
            current = []
        elif piece:
            current.append(piece)
    line = "".join(current)
    if line.strip(" \t\r\f"):
        lines.append(line)
    return [line if PROTECT in line else SPACE_RUNS.sub(" ", line.replace("\xa0", " ")).strip()
            for line in lines]


def wrap(text: str, mark: str) -> str:
    """Put `mark` around each line's content, whitespace outside (Slack needs it so)."""
    out = []
    for piece in BREAKS.split(text):
        core = piece.strip(WS)
        if not core or piece in ("\n", SOFT) or PROTECT in piece:
            out.append(piece)
            continue
        start = len(piece) - len(piece.lstrip(WS))
        quoted = _QUOTE_PREFIX.match(core)      # a `>` here is a quote marker we wrote
        if quoted:
            start, core = start + quoted.end(), core[quoted.end():]
        out.append(f"{piece[:start]}{mark}{core}{mark}{piece[start + len(core):]}" if core else piece)
    return "".join(out)


def tidy(lines: list[str], *, keep_marks: bool) -> list[str]:
    """Trim blank lines at both ends and keep at most one blank line in a row."""
    out: list[str] = []
    blank = False
    for line in lines:
        if PROTECT not in line:
            line = line.rstrip()
            if not line.strip():
                blank = True
                continue
        elif not keep_marks:
            line = line.replace(PROTECT, "")
        if blank and out:
            out.append("")
        blank = False
        out.append(line)
    return out
