"""The three HTML reports (plan, run, verify) in headless Chromium, built from hostile Teams
content (tests/ui/hostile.py): no console message at all (no error, no CSP refusal), no
request of any kind, the script ran (filter boxes, sorting from the address), nothing from
Teams became markup, direction controls stay isolated, dark mode is dark. A screenshot of each
is kept in bench-results/screenshots/ (CI keeps it as an artifact). Skipped, saying so, where
no Chromium is installed."""

from __future__ import annotations

import re
import struct
import zlib
from pathlib import Path

import pytest

from .browser import find_chromium, load, read_markup
from .hostile import SCRIPT, hostile_plan_html, hostile_run_html, hostile_verify_html

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "bench-results" / "screenshots"
REPORTS = ("plan", "run", "verify")


@pytest.fixture(scope="module")
def chromium() -> str:
    path = find_chromium()
    if path is None:
        pytest.skip("no Chromium binary found (apt-get install chromium, or set CHROMIUM=/path "
                    "to a Chrome): the HTML reports were not checked in a browser")
    return path


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("reports")
    out = {"plan": folder / "plan.html", "run": folder / "run.html",
           "verify": folder / "verify.html"}
    out["plan"].write_text(hostile_plan_html(), encoding="utf-8")
    out["run"].write_text(hostile_run_html(tmp_path_factory.mktemp("workdir")), encoding="utf-8")
    out["verify"].write_text(hostile_verify_html(), encoding="utf-8")
    return out


@pytest.fixture(scope="module")
def loaded(chromium, pages):
    return {name: load(chromium, pages[name], screenshot=SHOTS / f"{name}.png") for name in REPORTS}


@pytest.mark.parametrize("name", REPORTS)
def test_no_console_message_and_no_request(loaded, name):
    page = loaded[name]
    assert page.console == [], f"{name}: the console said {page.console}"
    assert page.requests == [], f"{name}: the page requested {page.requests}"


@pytest.mark.parametrize("name", REPORTS)
def test_the_script_ran_and_every_table_has_its_filter(loaded, name):
    dom = loaded[name].dom
    assert 'data-ready="1"' in dom.split(">", 2)[1] + ">"      # set on <html> at its end
    tables = dom.count('class="sortable"')
    assert tables >= 2 and dom.count('class="filter"') == tables
    assert dom.count("<svg") >= 1 and "<details" in dom


@pytest.mark.parametrize("name", REPORTS)
def test_teams_content_stays_text(loaded, name):
    markup = read_markup(loaded[name].dom)
    assert markup.tags.get("script") == 1                     # ours, nothing from Teams
    assert "img" not in markup.tags and "iframe" not in markup.tags
    assert markup.handlers == []
    assert all(re.match(r"(?i)(https?:|mailto:)", h) for h in markup.hrefs), markup.hrefs
    assert markup.unisolated_bidi == []
    assert any(SCRIPT in text for text in markup.text)       # shown, as typed


@pytest.mark.parametrize("name", REPORTS)
def test_a_screenshot_of_each_report_is_kept(loaded, name):
    shot = loaded[name].screenshot
    assert shot is not None and shot.stat().st_size > 20_000
    assert _first_pixel(shot)[:3] == (255, 255, 255)          # light by default


def test_dark_mode(chromium, pages):
    page = load(chromium, pages["verify"], dark=True, screenshot=SHOTS / "verify-dark.png")
    assert page.console == [] and page.requests == []
    red, green, blue = _first_pixel(page.screenshot)[:3]
    assert max(red, green, blue) < 60


def test_sorted_and_filtered_from_the_address(chromium, pages):
    """Thousands of rows stay usable: `#channels.sort=6d&channels.q=…` opens the folded
    section, sorts by posts (descending) and keeps the matching rows only."""
    page = load(chromium, pages["plan"], fragment="channels.sort=6d&channels.q=channel%2001",
                screenshot=SHOTS / "plan-sorted-filtered.png")
    assert page.console == [] and page.requests == []
    section = re.search(r'<details id="channels-section"( open="")?>', page.dom)
    assert section and section.group(1)                       # unfolded
    table = re.search(r'<table class="sortable" id="channels">.*?</table>', page.dom, re.S).group(0)
    assert 'aria-sort="descending"' in table
    rows = re.findall(r"<tr( hidden=\"\")?>(.*?)</tr>", table.split("<tbody>")[1], re.S)
    shown = [cells for hidden, cells in rows if not hidden]
    assert len(rows) == 1200 and 0 < len(shown) < 200
    assert all("channel 01" in cells for cells in shown)
    posts = [int(re.findall(r'data-v="(\d+)"', cells)[1]) for cells in shown]
    assert posts == sorted(posts, reverse=True) and posts[0] > posts[-1]
    assert f"{len(shown)} of 1200 rows" in page.dom


def test_the_checks_see_what_they_look_for(chromium, tmp_path):
    """A control page: a request and a script error are caught (without the reports' CSP)."""
    control = tmp_path / "control.html"
    control.write_text('<!doctype html><html><head><link rel="stylesheet" '
                       'href="https://fonts.example.invalid/x.css"></head><body>'
                       '<img src="http://img.example.invalid/x.png">'
                       "<script>missing_function()</script></body></html>", encoding="utf-8")
    page = load(chromium, control)
    assert "https://fonts.example.invalid/x.css" in page.requests
    assert "http://img.example.invalid/x.png" in page.requests
    assert any("missing_function" in line for line in page.console)


def _first_pixel(png: Path) -> tuple[int, ...]:
    """The top-left pixel of a PNG (8-bit RGB or RGBA): the first row's filters all leave
    its first pixel as stored."""
    data = png.read_bytes()
    pos, idat, depth, kind, width = 8, b"", 8, 2, 0
    while pos < len(data):
        length, chunk = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if chunk == b"IHDR":
            width, _, depth, kind = struct.unpack(">IIBB", body[:10])
        elif chunk == b"IDAT":
            idat += body
        pos += 12 + length
    assert depth == 8 and kind in (2, 6), (depth, kind)
    raw = zlib.decompressobj().decompress(idat, 1 + 4 * 4)
    return tuple(raw[1:1 + (3 if kind == 2 else 4)])
