"""The page every HTML report is built on (plan, run, verify): one file that needs no network.

- Everything inline: the CSS, a small script (sort a table by a click on its header, a filter
  box above it, both remembered in the address's #fragment so a view can be linked), and the
  charts as SVG. A Content-Security-Policy allows only that script and that style (by hash)
  and no fetch at all: a name from Teams that slipped through unescaped could not run, and a
  report never loads anything from anywhere.
- Text from Teams is escaped everywhere, and isolated (`<bdi dir="auto">`, `dir="auto"` on
  table cells): a right-to-left name reads right to left, and an RTL override inside a name
  does not turn the report's own words around.
- A font stack that covers Latin, Cyrillic, Greek, CJK, Arabic, Hebrew and emoji with the
  system's fonts; light and dark (`prefers-color-scheme`).
"""

from __future__ import annotations

import base64
import hashlib
import html
import math
import re
from collections.abc import Iterable, Sequence

FONTS = ('system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Helvetica Neue",Arial,'
         '"Noto Sans CJK SC","Noto Sans CJK JP","Noto Sans CJK KR","PingFang SC",'
         '"Hiragino Sans","Microsoft YaHei","Yu Gothic","Malgun Gothic","Noto Naskh Arabic",'
         '"Noto Sans Arabic","Segoe UI Arabic","Noto Sans Hebrew","Noto Sans Devanagari",'
         '"Noto Sans Thai","DejaVu Sans","Apple Color Emoji","Segoe UI Emoji",'
         '"Noto Color Emoji",sans-serif')

CSS = """:root{color-scheme:light dark;--fg:#1d1c1d;--muted:#616061;--bg:#fff;--line:#ddd;
--soft:#f6f6f6;--accent:#4a154b;--ok:#2a9d6a;--bad:#e01e5a;--warn:#c98a00;--code:#e01e5a}
@media (prefers-color-scheme:dark){:root{--fg:#e8e8e8;--muted:#a8a8aa;--bg:#1a1d21;
--line:#3b3e44;--soft:#24272c;--accent:#d7a6e3;--ok:#4cc38a;--bad:#ff6b8f;--warn:#f2c14e;
--code:#ff8fab}}
body{font-family:FONTS;margin:2rem auto;max-width:1180px;padding:0 1rem;color:var(--fg);
background:var(--bg);line-height:1.4}h1,h2,h3{font-weight:700}h2{display:inline;font-size:1.3rem}
a{color:var(--accent)}small,.muted{color:var(--muted)}
details{border-top:1px solid var(--line);padding:.6rem 0}summary{cursor:pointer;margin:.2rem 0}
summary .n{color:var(--muted);margin-left:.4rem}
.scroll{max-height:75vh;overflow:auto;border:1px solid var(--line);border-radius:6px;
margin:.5rem 0 1rem}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid var(--line);
padding:.3rem .5rem;text-align:start;vertical-align:top;font-size:.9rem}
th{position:sticky;top:0;background:var(--soft);cursor:pointer;user-select:none;white-space:nowrap}
th[aria-sort=ascending]::after{content:" \\25B2"}th[aria-sort=descending]::after{content:" \\25BC"}
td.num{text-align:end;font-variant-numeric:tabular-nums}
input.filter{font:inherit;padding:.25rem .5rem;width:min(24rem,100%);color:var(--fg);
background:var(--bg);border:1px solid var(--line);border-radius:4px}
.cards{display:flex;gap:1rem;flex-wrap:wrap;margin:1rem 0}.card{border:1px solid var(--line);
border-radius:8px;padding:.6rem 1rem;min-width:9rem;background:var(--soft)}.card b{display:block;
font-size:1.4rem}.verdict-ok{color:var(--ok)}.verdict-bad{color:var(--bad)}
.msg{display:flex;gap:.6rem;padding:.4rem 0}.avatar{width:36px;height:36px;border-radius:4px;
background:var(--line);flex:none}.msg .who{font-weight:700}.msg .who small{font-weight:400;
margin-inline-start:.4rem}.reply{margin-inline-start:2.6rem;border-inline-start:3px solid
var(--line);padding-inline-start:.6rem}pre{background:var(--soft);border:1px solid var(--line);
padding:.5rem;white-space:pre-wrap}code{background:var(--soft);color:var(--code);padding:0 .2rem}
blockquote{border-inline-start:4px solid var(--line);margin:0;padding-inline-start:.6rem;
color:var(--muted)}.channel{border:1px solid var(--line);border-radius:8px;padding:.5rem 1rem;
margin:1rem 0}
svg.chart{width:100%;max-width:780px;height:auto;display:block;margin:.5rem 0 1rem}
svg text{fill:var(--fg);font-size:12px}svg .axis{stroke:var(--line)}svg .bar{fill:var(--accent)}
svg .ok{fill:var(--ok)}svg .bad{fill:var(--bad)}svg .warn{fill:var(--warn)}
svg .rest{fill:var(--line)}svg .line{stroke:var(--accent);fill:none;stroke-width:1.5}
.legend span{margin-inline-end:1rem}.legend i{display:inline-block;width:.8rem;height:.8rem;
border-radius:2px;margin-inline-end:.3rem;vertical-align:-.1rem}.legend .ok{background:var(--ok)}
.legend .bad{background:var(--bad)}.legend .warn{background:var(--warn)}
.legend .bar{background:var(--accent)}.legend .rest{background:var(--line)}
@media print{.scroll{max-height:none;overflow:visible}input.filter{display:none}}
""".replace("FONTS", FONTS)

# Sort by a click on a column's header (numbers by value: cells carry data-v), filter the rows
# by what the box holds; `#<table id>.sort=<column><a|d>&<table id>.q=<text>` in the address
# keeps a view (a link to it opens it sorted and filtered, its section unfolded).
SCRIPT = """(function(){"use strict";
var state=new URLSearchParams(location.hash.slice(1));
function keep(){try{history.replaceState(null,"","#"+state.toString());}catch(e){}}
function key(cell){var v=cell.getAttribute("data-v");
return v!==null?parseFloat(v):cell.textContent.trim().toLowerCase();}
function sort(table,col,desc){var body=table.tBodies[0];
var rows=Array.prototype.map.call(body.rows,function(r,i){return [key(r.cells[col]),i,r];});
rows.sort(function(a,b){var x=a[0],y=b[0],c=(typeof x==="number"&&typeof y==="number")?
(x===y?0:(x<y?-1:1)):String(x).localeCompare(String(y));return (desc?-c:c)||a[1]-b[1];});
var frag=document.createDocumentFragment();rows.forEach(function(r){frag.appendChild(r[2]);});
body.appendChild(frag);Array.prototype.forEach.call(table.tHead.rows[0].cells,function(th,i){
if(i===col){th.setAttribute("aria-sort",desc?"descending":"ascending");}
else{th.removeAttribute("aria-sort");}});}
function filter(table,count,text){var q=text.trim().toLowerCase(),shown=0,rows=table.tBodies[0].rows;
for(var i=0;i<rows.length;i++){var r=rows[i];if(r._t===undefined){r._t=r.textContent.toLowerCase();}
var hit=!q||r._t.indexOf(q)>=0;r.hidden=!hit;if(hit){shown++;}}
count.textContent=q?shown+" of "+rows.length+" rows":rows.length+" rows";}
Array.prototype.forEach.call(document.querySelectorAll("table.sortable"),function(table){
var id=table.id,box=document.createElement("input"),count=document.createElement("span"),timer=0;
box.type="search";box.className="filter";box.placeholder="Filter rows";
box.setAttribute("aria-label","Filter the rows of this table");count.className="muted";
var bar=document.createElement("div");bar.appendChild(box);bar.appendChild(document.createTextNode(" "));
bar.appendChild(count);var wrap=table.parentNode;wrap.parentNode.insertBefore(bar,wrap);
Array.prototype.forEach.call(table.tHead.rows[0].cells,function(th,i){th.tabIndex=0;
function go(){var desc=th.getAttribute("aria-sort")==="ascending";sort(table,i,desc);
state.set(id+".sort",i+(desc?"d":"a"));keep();}
th.addEventListener("click",go);th.addEventListener("keydown",function(e){
if(e.key==="Enter"||e.key===" "){e.preventDefault();go();}});});
box.addEventListener("input",function(){clearTimeout(timer);timer=setTimeout(function(){
filter(table,count,box.value);if(box.value){state.set(id+".q",box.value);}else{state.delete(id+".q");}
keep();},120);});
var s=state.get(id+".sort"),q=state.get(id+".q");
if(s&&/^[0-9]+[ad]$/.test(s)){var col=parseInt(s,10);if(col<table.tHead.rows[0].cells.length){
sort(table,col,s.slice(-1)==="d");}}
if(q){box.value=q;}filter(table,count,box.value);
if(s||q){var d=table.closest("details");if(d){d.open=true;}}});
document.documentElement.setAttribute("data-ready","1");})();
"""


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


CSP = (f"default-src 'none'; script-src {_sha256(SCRIPT)}; style-src {_sha256(CSS)}; "
       "img-src data:; base-uri 'none'; form-action 'none'")

# Direction controls: inside a chart's label they would turn the label (and what follows it in
# the SVG) around; a table cell shows them isolated instead.
_BIDI = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def user(value: object) -> str:
    """Text from Teams inline in the report's own sentence: escaped and isolated."""
    return f'<bdi dir="auto">{esc(value)}</bdi>'


def label(value: object, limit: int = 32) -> str:
    """Text from Teams as a chart label: escaped, without direction controls, shortened."""
    text = _BIDI.sub("", str(value))
    return esc(text if len(text) <= limit else text[:limit - 1] + "…")


def page(title: str, body: Iterable[str]) -> str:
    return ('<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{esc(title)}</title><style>{CSS}</style></head><body>{''.join(body)}"
            f"<script>{SCRIPT}</script></body></html>\n")


def cards(items: Iterable[tuple[str, object]]) -> str:
    return '<div class="cards">' + "".join(
        f'<div class="card"><b>{esc(f"{v:,}" if isinstance(v, int) else v)}</b>{esc(k)}</div>'
        for k, v in items) + "</div>"


def section(title: str, content: str, *, count: int | None = None, open: bool = True,
            sid: str | None = None) -> str:
    """A collapsible section: `<details>` with the title (and how many rows) as its summary."""
    n = f'<span class="n">({count:,})</span>' if count is not None else ""
    ident = f' id="{esc(sid)}"' if sid else ""
    return (f"<details{ident}{' open' if open else ''}><summary><h2>{esc(title)}</h2>{n}"
            f"</summary>{content}</details>")


def _cell(value: object) -> str:
    if isinstance(value, bool):
        return f"<td>{'yes' if value else ''}</td>"
    if value is None:
        return '<td class="num" data-v="-1e308">—</td>'
    if isinstance(value, int | float):
        shown = f"{value:,}" if isinstance(value, int) else f"{value:,.1f}"
        return f'<td class="num" data-v="{value}">{shown}</td>'
    return f'<td dir="auto">{esc(value)}</td>'


def table(headers: Sequence[str], rows: Iterable[Sequence[object]], *, tid: str) -> str:
    """A sortable, filterable table. Numbers are sorted by value; every other cell is text
    (escaped, `dir="auto"`)."""
    head = "".join(f'<th scope="col">{esc(h)}</th>' for h in headers)
    body = "".join("<tr>" + "".join(_cell(c) for c in row) + "</tr>" for row in rows)
    return (f'<div class="scroll"><table class="sortable" id="{esc(tid)}"><thead><tr>{head}'
            f"</tr></thead><tbody>{body}</tbody></table></div>")


def legend(items: Iterable[tuple[str, str]]) -> str:
    return '<p class="legend">' + "".join(f'<span><i class="{cls}"></i>{esc(text)}</span>'
                                           for cls, text in items) + "</p>"


# -- charts (inline SVG) -------------------------------------------------------------------

def _svg(title: str, width: int, height: int, parts: Iterable[str]) -> str:
    return (f'<svg class="chart" role="img" aria-label="{esc(title)}" viewBox="0 0 {width} '
            f'{height}" xmlns="http://www.w3.org/2000/svg"><title>{esc(title)}</title>'
            + "".join(parts) + "</svg>")


def bar_chart(rows: Sequence[tuple[str, float]], title: str, *, top: int = 30) -> str:
    """Horizontal bars, largest first, at most `top` of them (the chart says how many more)."""
    rows = sorted(rows, key=lambda r: -r[1])
    shown = rows[:top]
    if not shown:
        return ""
    width, bar_h, label_w = 780, 22, 230
    peak = max(v for _, v in shown) or 1
    parts = []
    for i, (name, value) in enumerate(shown):
        y = i * bar_h + 4
        w = max(1, int((width - label_w - 90) * value / peak))
        parts.append(f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end">{label(name)}</text>'
                     f'<rect class="bar" x="{label_w}" y="{y + 3}" width="{w}" height="{bar_h - 6}"/>'
                     f'<text x="{label_w + w + 6}" y="{y + 15}">{value:,}</text>')
    more = len(rows) - len(shown)
    note = f'<p class="muted">The {len(shown)} largest of {len(rows):,}.</p>' if more > 0 else ""
    return _svg(title, width, len(shown) * bar_h + 8, parts) + note


def _ticks(peak: float) -> list[float]:
    """Round steps (1, 2 or 5 times a power of ten, whole numbers) from 0 to about `peak`."""
    if peak <= 0:
        return [0]
    raw = peak / 5
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    step = max(1, round(step))
    return [i * step for i in range(int(peak // step) + 1)]


def column_chart(points: Sequence[tuple[str, float]], title: str, *, css: str = "bar",
                 height: int = 180) -> str:
    """Vertical bars in order (a timeline): a label under some of them, the scale on the left."""
    if not points:
        return ""
    width, left, bottom, top = 780, 56, 22, 8
    plot_w, plot_h = width - left - 8, height - bottom - top
    peak = max(v for _, v in points) or 1
    ticks = _ticks(peak)
    scale = plot_h / max(peak, ticks[-1] or 1)
    step = plot_w / len(points)
    parts = []
    for t in ticks:
        y = top + plot_h - t * scale
        parts.append(f'<line class="axis" x1="{left}" x2="{width - 8}" y1="{y:.1f}" y2="{y:.1f}"/>'
                     f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{t:,.0f}</text>')
    every = max(1, round(len(points) / 8))
    for i, (name, value) in enumerate(points):
        h = value * scale
        x = left + i * step
        bar = min(max(step * 0.8, 0.5), 64.0)          # a few days: bars, not blocks
        parts.append(f'<rect class="{css}" x="{x + (step - bar) / 2:.1f}" '
                     f'y="{top + plot_h - h:.1f}" width="{bar:.1f}" height="{h:.1f}"><title>'
                     f"{label(name)}: {value:,}</title></rect>")
        if i % every == 0:
            parts.append(f'<text x="{x + step / 2:.1f}" y="{height - 6}" text-anchor="middle">'
                         f"{label(name, 12)}</text>")
    return _svg(title, width, height, parts)


def clock(seconds: float) -> str:
    """Elapsed time as h:mm:ss or m:ss."""
    s = int(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def progress_chart(rows: Sequence[tuple[str, Sequence[tuple[str, int]], int]], title: str, *,
                   top: int = 40) -> str:
    """One stacked bar per row: (label, [(css class, count) …], total). Rows in the order
    given, at most `top`."""
    shown = rows[:top]
    if not shown:
        return ""
    width, bar_h, label_w = 780, 20, 230
    plot_w = width - label_w - 120
    parts = []
    for i, (name, pieces, total) in enumerate(shown):
        y = i * bar_h + 4
        parts.append(f'<text x="{label_w - 8}" y="{y + 14}" text-anchor="end">{label(name)}</text>'
                     f'<rect class="rest" x="{label_w}" y="{y + 3}" width="{plot_w}" '
                     f'height="{bar_h - 6}"/>')
        x = float(label_w)
        for css, n in pieces:
            w = plot_w * n / total if total else 0
            if w > 0:
                parts.append(f'<rect class="{css}" x="{x:.1f}" y="{y + 3}" width="{w:.1f}" '
                             f'height="{bar_h - 6}"/>')
            x += w
        done = sum(n for _, n in pieces[:1])
        parts.append(f'<text x="{label_w + plot_w + 6}" y="{y + 14}">{done:,} / {total:,}</text>')
    more = len(rows) - len(shown)
    note = f'<p class="muted">{len(shown)} of {len(rows):,} shown; the table lists every one.</p>' \
        if more > 0 else ""
    return _svg(title, width, len(shown) * bar_h + 8, parts) + note
