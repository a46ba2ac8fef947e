"""Headless Chromium driven from its command line (no Python dependency, no DevTools client):
one launch loads a page, runs its script, writes a screenshot and prints the DOM as it stands
after load. What the page said on its console comes from Chromium's log (`--enable-logging
=stderr`: every console message, CSP refusal and uncaught error is a `CONSOLE` line), and
every request it made from its network log (`--log-net-log`): a request the page starts
carries the page's origin (file://) in its isolation key, unlike Chromium's own background
calls. Names resolve to nothing (`--host-resolver-rules`), so a request that slipped through
still leaves nothing on the network."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
CONSOLE = re.compile(r":CONSOLE[^\]]*\] (.*)$")


def find_chromium() -> str | None:
    """$CHROMIUM, else the first Chromium or Chrome on PATH."""
    given = os.environ.get("CHROMIUM")
    if given:
        return shutil.which(given) or (given if Path(given).is_file() else None)
    return next((path for path in map(shutil.which, NAMES) if path), None)


@dataclass
class Load:
    dom: str
    console: list[str]
    requests: list[str]                       # URLs the page asked for
    screenshot: Path | None
    stderr: str = field(repr=False, default="")


def page_requests(netlog: Path) -> list[str]:
    """URLs the page requested: URL_REQUEST_START_JOB events of its own (file://) origin."""
    text = netlog.read_text(encoding="utf-8", errors="replace").rstrip()
    try:
        log = json.loads(text)
    except json.JSONDecodeError:   # a log cut short at exit has no closing brackets
        log = json.loads(text.rstrip(",") + "]}")
    start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    urls = []
    for event in log.get("events", []):
        params = event.get("params") or {}
        if event.get("type") == start and "url" in params and (
                "file://" in params.get("network_isolation_key", "")
                or "file://" in params.get("site_for_cookies", "")):
            urls.append(params["url"])
    return urls


def load(chromium: str, page: Path, *, fragment: str = "", screenshot: Path | None = None,
         dark: bool = False, size: tuple[int, int] = (1280, 2400), timeout: float = 60) -> Load:
    with tempfile.TemporaryDirectory(prefix="chromium-") as tmp:
        netlog = Path(tmp) / "net.json"
        args = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--no-default-browser-check", "--disable-extensions", "--disable-sync",
                "--disable-background-networking", "--disable-component-update",
                "--disable-default-apps", "--mute-audio", f"--user-data-dir={tmp}/profile",
                "--enable-logging=stderr", "--v=0", f"--log-net-log={netlog}",
                "--host-resolver-rules=MAP * ~NOTFOUND", f"--window-size={size[0]},{size[1]}",
                "--hide-scrollbars"]
        if dark:
            args.append("--force-dark-mode")
        if screenshot is not None:
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            args.append(f"--screenshot={screenshot}")
        args += ["--dump-dom", page.resolve().as_uri() + (f"#{fragment}" if fragment else "")]
        done = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
        console = [m.group(1) for line in done.stderr.splitlines()
                   if (m := CONSOLE.search(line))]
        requests = page_requests(netlog) if netlog.exists() else ["(no network log written)"]
    if done.returncode != 0 or not done.stdout.strip():
        raise RuntimeError(f"chromium failed ({done.returncode}): {done.stderr[-2000:]}")
    return Load(done.stdout, console, requests,
                screenshot if screenshot is not None and screenshot.exists() else None,
                done.stderr)


@dataclass
class Markup:
    """What a DOM holds that matters for safety: its elements by tag, event-handler
    attributes, link targets, and text with direction controls outside an isolating element."""

    tags: dict[str, int] = field(default_factory=dict)
    handlers: list[str] = field(default_factory=list)
    hrefs: list[str] = field(default_factory=list)
    unisolated_bidi: list[str] = field(default_factory=list)
    text: list[str] = field(default_factory=list)


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr", "rect", "line", "path", "circle"}
BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out = Markup()
        self.stack: list[bool] = []          # per open element: does it isolate direction?

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.out.tags[tag] = self.out.tags.get(tag, 0) + 1
        for name, value in attrs:
            if name.startswith("on"):
                self.out.handlers.append(f"{tag} {name}={value}")
            if name in ("href", "src", "xlink:href", "action", "formaction"):
                self.out.hrefs.append(value or "")
        if tag not in VOID:
            isolates = tag == "bdi" or any(n == "dir" for n, _ in attrs)
            self.stack.append(isolates)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID and self.stack:
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        if tag not in VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.out.text.append(data)
        if BIDI.search(data) and not any(self.stack):
            self.out.unisolated_bidi.append(data)


def read_markup(dom: str) -> Markup:
    reader = _Reader()
    reader.feed(dom)
    reader.close()
    return reader.out
