"""Splitting a long Slack text into parts that each fit a limit (Slack advises at most 4,000
characters per message, https://docs.slack.dev/reference/methods/chat.postMessage, and
chat.update refuses more).

Parts break between lines where they can (preferring, in the last quarter of a part, a blank
line or a bold heading line), then between words, and only inside a word when one word is longer
than the limit. Nothing is truncated: the parts hold every character of the text except the line
breaks, blank lines or space at which a part ends. A part never ends inside a code block:
when a break falls between fences, the part closes the block (```) and the next one reopens it.
A break never falls inside an escape (`&amp;`) or a `<…>` token such as a link, unless that token
alone is longer than the limit.
"""

from __future__ import annotations

import re

FENCE = "```"
_PREFIX = re.compile(r"[ \t>]*")
_TOKEN = re.compile(r"<[^<>\n]*>|&(?:amp|lt|gt);")
_MIN_FENCED = 40        # below this limit code fences are not balanced across parts
_HEADING = re.compile(r"\*[^*\n]{1,80}\*")


def _fence_after(state: str | None, line: str) -> str | None:
    """The open fence's line prefix after `line`, or None when no code block is open."""
    if line.count(FENCE) % 2 == 0:
        return state
    if state is not None:
        return None
    prefix = _PREFIX.match(line).group()
    return prefix if len(prefix) <= 8 else ""


def _break(line: str, room: int) -> int:
    """Length of the head to cut from a line longer than `room`: at a space if there is one
    (the space is dropped), never inside a token, never between two backticks."""
    blocked = bytearray(room + 1)
    for match in _TOKEN.finditer(line):
        if match.start() >= room:
            break
        for i in range(match.start() + 1, min(match.end(), room + 1)):
            blocked[i] = 1
    for i in range(min(room, len(line) - 1), 0, -1):
        if line[i] == " " and not blocked[i]:
            return i
    for i in range(room, 0, -1):
        if not blocked[i] and not (line[i - 1] == "`" and line[i:i + 1] == "`"):
            return i
    return room


class _Packer:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.balance = limit >= _MIN_FENCED
        self.parts: list[str] = []
        self.lines: list[str] = []
        self.before: list[str | None] = []     # fence state before each line of the part
        self.size = 0
        self.fence: str | None = None
        self.body = False           # the current part holds more than a reopened fence

    def room(self, fence: str | None) -> int:
        reserve = len(fence + FENCE) + 1 if fence is not None and self.balance else 0
        return self.limit - self.size - (1 if self.lines else 0) - reserve

    def add(self, line: str, fence: str | None, *, body: bool = True) -> None:
        self.size += len(line) + (1 if self.lines else 0)
        self.lines.append(line)
        self.before.append(self.fence)
        self.fence = fence
        self.body = self.body or body

    def _nicer_cut(self) -> int:
        """A break in the last quarter of the part at a blank line or before a bold heading
        line, outside code; else the end of the part."""
        size = self.size
        for i in range(len(self.lines) - 1, 0, -1):
            size -= len(self.lines[i]) + 1
            if size < self.limit * 3 // 4:
                break
            if self.before[i] is None and (not self.lines[i].strip() or _HEADING.fullmatch(self.lines[i])):
                return i
        return len(self.lines)

    def flush(self, *, nicer: bool = False) -> None:
        cut = self._nicer_cut() if nicer else len(self.lines)
        carry, carried_states = self.lines[cut:], self.before[cut:]
        fence = (self.before[cut] if cut < len(self.lines) else self.fence) if self.balance else None
        head = self.lines[:cut] + ([fence + FENCE] if fence is not None else [])
        self.parts.append("\n".join(head))
        state = self.fence
        self.lines, self.before, self.size, self.body, self.fence = [], [], 0, False, None
        if fence is not None:
            self.add(fence + FENCE, fence, body=False)
        while carry and not carry[0].strip():
            carry, carried_states = carry[1:], carried_states[1:]
        for line, before in zip(carry, carried_states, strict=True):
            self.fence = before
            self.add(line, None)
        self.fence = state


def split_text(text: str, limit: int) -> list[str]:
    """Parts of `text`, each at most `limit` characters (see the module docstring)."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    if len(text) <= limit:
        return [text]
    packer = _Packer(limit)
    for line in text.split("\n"):
        while True:
            after = _fence_after(packer.fence, line)
            if len(line) <= packer.room(after):
                packer.add(line, after)
                break
            if packer.body:
                packer.flush(nicer=True)
                continue
            # One line longer than a whole part: cut it (room kept to close a fence it opens).
            guess = packer.fence
            if guess is None and FENCE in line:
                guess = _PREFIX.match(line).group()
                guess = guess if len(guess) <= 8 else ""
            cut = _break(line, max(1, packer.room(guess)))
            head, line = line[:cut], line[cut + 1:] if line[cut:cut + 1] == " " else line[cut:]
            packer.add(head, _fence_after(packer.fence, head))
            packer.flush()
            if not line:
                break
    if packer.body or not packer.parts:
        packer.flush()
    return packer.parts
