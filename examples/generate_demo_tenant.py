#!/usr/bin/env python3
"""Generate the demo tenant: Northwind Labs' Microsoft Teams data and the Slack workspace it moves to.

    python examples/generate_demo_tenant.py [--out examples/demo-tenant] [--seed 2026]

The output follows the sandbox folder format of `migrate/sandbox/tenant.py` (Graph-shaped JSON
under graph/, a Slack workspace under slack/), plus `expected.json` (known answers computed here
from what was generated, independent of any `migrate` code) and `README.md` (the cast of edge
cases and where each one lives).

Deterministic: the same seed gives byte-identical files. Every random choice comes from one
`random.Random(seed)` — except the chats (graph/chats/), generated last from their own
`random.Random(f"{seed}-chats")` so that adding them changed none of the other bytes; GUIDs are
built from those generators' bits; no wall clock is read; JSON keeps a fixed insertion order.
Standard library only.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import html
import json
import random
import re
import shutil
import struct
import unicodedata
import uuid
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

DEFAULT_SEED = 2026
DEFAULT_OUT = Path(__file__).resolve().parent / "demo-tenant"

COMPANY = "Northwind Labs"
DOMAIN = "northwindlabs.com"
ONMICROSOFT = "northwindlabs.onmicrosoft.com"
SHAREPOINT = "https://northwindlabs.sharepoint.com"
GRAPH = "https://graph.microsoft.com/v1.0"
SLACK_TEAM_ID = "T0NWLABS"

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
END_MS = 0  # set below: last instant any generated event may have
ARCHIVE_AT = "2023-03-31T17:45:12.000Z"  # Marketing team archived (no message after this)
CHRISTIE_LEFT = "2022-07-29T16:00:00.000Z"  # the disabled user authored nothing after this

ID_ALPHABET = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"

Json = dict[str, Any]


# --------------------------------------------------------------------------------------------
# time helpers (all times are integer epoch milliseconds)


def parse_iso(text: str) -> int:
    t = datetime.strptime(text.replace("Z", "+0000"), "%Y-%m-%dT%H:%M:%S.%f%z")
    return (t - EPOCH) // timedelta(milliseconds=1)


def iso(ms: int) -> str:
    t = EPOCH + timedelta(milliseconds=ms)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


END_MS = parse_iso("2026-09-30T18:00:00.000Z")
MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR


# --------------------------------------------------------------------------------------------
# naming (DESIGN §4.4), computed here independently of migrate's own code


def slugify(text: str) -> str:
    """Lowercase, accents folded to ASCII, every run outside a-z0-9-_ becomes one "-", trimmed."""
    folded = unicodedata.normalize("NFKD", text)
    folded = "".join(c for c in folded if not unicodedata.combining(c)).lower()
    return re.sub(r"[^a-z0-9_-]+", "-", folded).strip("-")


# --------------------------------------------------------------------------------------------
# real file bytes: PNG (zlib + struct) and a hand-written PDF


def png_bytes(width: int, height: int, rows: list[bytes]) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    raw = b"".join(b"\x00" + row for row in rows)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, 9))
            + chunk(b"IEND", b""))


class Canvas:
    def __init__(self, width: int, height: int, bg: tuple[int, int, int]) -> None:
        self.w, self.h = width, height
        self.px = [[bg] * width for _ in range(height)]

    def rect(self, x0: int, y0: int, x1: int, y1: int, color: tuple[int, int, int]) -> None:
        for y in range(max(0, y0), min(self.h, y1)):
            for x in range(max(0, x0), min(self.w, x1)):
                self.px[y][x] = color

    def circle(self, cx: int, cy: int, r: int, color: tuple[int, int, int]) -> None:
        for y in range(self.h):
            for x in range(self.w):
                if (x - cx) ** 2 + (y - cy) ** 2 <= r * r:
                    self.px[y][x] = color

    def png(self) -> bytes:
        return png_bytes(self.w, self.h, [bytes(v for p in row for v in p) for row in self.px])


def pdf_bytes(title: str, lines: list[str]) -> bytes:
    def esc(s: str) -> str:
        return s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    text = ["BT", "/F1 18 Tf", "72 730 Td", f"({esc(title)}) Tj", "/F1 11 Tf", "0 -28 Td"]
    for line in lines:
        text += [f"({esc(line)}) Tj", "0 -16 Td"]
    text.append("ET")
    stream = "\n".join(text).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Title (" + esc(title).encode("latin-1") + b") /Producer (Northwind Labs demo) "
        b"/CreationDate (D:20240101000000Z) >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n".encode() + b"0000000000 65535 f \n"
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += (f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info {len(objects)} 0 R >>\n"
            f"startxref\n{xref}\n%%EOF\n").encode()
    return bytes(out)


# --------------------------------------------------------------------------------------------
# the cast: people
#
# key: (displayName, givenName, surname, jobTitle, department-ish office, tz)
# Extra fields per person are in PERSON_OVERRIDES. Default: mail = UPN = <local>@northwindlabs.com,
# proxyAddresses = ["SMTP:<mail>", "smtp:<local>@northwindlabs.onmicrosoft.com"], Slack account
# with the same email.

PEOPLE: list[tuple[str, str, str, str, str, str, str, str]] = [
    # key, displayName, given, surname, mail local part, jobTitle, office, tz
    ("patti", "Patti Fernandez", "Patti", "Fernandez", "patti.fernandez", "Chief Executive Officer", "Seattle", "America/Los_Angeles"),
    ("megan", "Megan Bowen", "Megan", "Bowen", "megan.bowen", "Program Manager", "Seattle", "America/Los_Angeles"),
    ("adele", "Adele Vance", "Adele", "Vance", "adele.vance", "VP Engineering", "Seattle", "America/Los_Angeles"),
    ("alexw", "Alex Wilber", "Alex", "Wilber", "alex.wilber", "Staff Engineer", "Seattle", "America/Los_Angeles"),
    ("alexk1", "Alex Kim", "Alex", "Kim", "alex.kim", "Software Engineer", "Seattle", "America/Los_Angeles"),
    ("alexk2", "Alex Kim", "Alexander", "Kim", "alexander.kim", "Account Executive", "Tokyo", "Asia/Tokyo"),
    ("jose", "José Núñez", "José", "Núñez", "jose.nunez", "Site Reliability Engineer", "Madrid", "Europe/Madrid"),
    ("zoe", "Zoë Ångström", "Zoë", "Ångström", "zoe.angstrom", "Principal Research Scientist", "Stockholm", "Europe/Stockholm"),
    ("wangfang", "王芳", "芳", "王", "fang.wang", "Sales Manager, APAC", "Shanghai", "Asia/Shanghai"),
    ("dmitry", "Дмитрий Иванов", "Дмитрий", "Иванов", "dmitry.ivanov", "Security Engineer", "Berlin", "Europe/Berlin"),
    ("hanako", "佐藤 花子", "花子", "佐藤", "hanako.sato", "営業部長", "Tokyo", "Asia/Tokyo"),
    ("kenji", "Kenji Watanabe", "Kenji", "Watanabe", "kenji.watanabe", "Account Executive", "Tokyo", "Asia/Tokyo"),
    ("siobhan", "Siobhán O'Connor", "Siobhán", "O'Connor", "siobhan.oconnor", "Customer Success Lead", "Dublin", "Europe/Dublin"),
    ("bjorn", "Björn Lindqvist", "Björn", "Lindqvist", "bjorn.lindqvist", "Data Engineer", "Stockholm", "Europe/Stockholm"),
    ("leegu", "Lee Gu", "Lee", "Gu", "lee.gu", "Frontend Engineer", "Seattle", "America/Los_Angeles"),
    ("lidia", "Lidia Holloway", "Lidia", "Holloway", "lidia.holloway", "Product Designer", "Seattle", "America/Los_Angeles"),
    ("lynne", "Lynne Robbins", "Lynne", "Robbins", "lynne.robbins", "Marketing Specialist", "Seattle", "America/Los_Angeles"),
    ("diego", "Diego Siciliani", "Diego", "Siciliani", "Diego.Siciliani", "Head of Customer Success", "Dublin", "Europe/Dublin"),
    ("henrietta", "Henrietta Mueller", "Henrietta", "Mueller", "henrietta.mueller", "QA Lead", "Berlin", "Europe/Berlin"),
    ("isaiah", "Isaiah Langer", "Isaiah", "Langer", "isaiah.langer", "Sales Engineer", "Seattle", "America/Los_Angeles"),
    ("johanna", "Johanna Lorenz", "Johanna", "Lorenz", "johanna.lorenz", "Lab Manager", "Berlin", "Europe/Berlin"),
    ("joni", "Joni Sherman", "Joni", "Sherman", "joni.sherman", "Compliance Officer", "Seattle", "America/Los_Angeles"),
    ("miriam", "Miriam Graham", "Miriam", "Graham", "miriam.graham", "Director of Marketing", "Seattle", "America/Los_Angeles"),
    ("nestor", "Nestor Wilke", "Nestor", "Wilke", "nestor.wilke", "Platform Engineer", "Seattle", "America/Los_Angeles"),
    ("pradeep", "Pradeep Gupta", "Pradeep", "Gupta", "pradeep.gupta", "Regulatory Affairs Specialist", "Bengaluru", "Asia/Kolkata"),
    ("priya", "Priya Raman", "Priya", "Raman", "priya.raman", "ML Engineer", "Bengaluru", "Asia/Kolkata"),
    ("ngozi", "Ngozi Okafor", "Ngozi", "Okafor", "ngozi.okafor", "Support Engineer", "London", "Europe/London"),
    ("rafael", "Rafael Souza", "Rafael", "Souza", "rafael.souza", "Support Engineer", "Dublin", "Europe/Dublin"),
    ("emilie", "Émilie Gagnon", "Émilie", "Gagnon", "emilie.gagnon", "Renewals Manager", "Montréal", "America/Toronto"),
    ("irvin", "Irvin Sayers", "Irvin", "Sayers", "irvin.sayers", "IT Administrator", "Seattle", "America/Los_Angeles"),
    ("sam", "Sam Taylor", "Sam", "Taylor", "sam.taylor", "Brand Designer", "Seattle", "America/Los_Angeles"),
    ("ben", "Ben Walters", "Ben", "Walters", "ben.walters", "Sales Operations Analyst", "Seattle", "America/Los_Angeles"),
    ("pat", "Pat Rivera", "Pat", "Rivera", "pat.rivera", "Lab Technician", "Berlin", "Europe/Berlin"),
    ("lena", "Lena Fischer", "Lena", "Fischer", "lena.fischer", "Product Manager", "Berlin", "Europe/Berlin"),
    ("omar", "Omar Haddad", "Omar", "Haddad", "omar.haddad", "DevOps Engineer", "London", "Europe/London"),
    ("grady", "Grady Archie", "Grady", "Archie", "grady.archie", "Engineering Intern", "Seattle", "America/Los_Angeles"),
    ("victor", "Victor Ng", "Victor", "Ng", "victor.ng", "Contract Developer", "Vancouver", "America/Vancouver"),
    ("christie", "Christie Cline", "Christie", "Cline", "christie.cline", "Senior Researcher", "Berlin", "Europe/Berlin"),
    # guests (B2B invitations): mail local part holds the full external address
    ("kari", "Kari Nordmann", "Kari", "Nordmann", "kari.nordmann@fabrikam.com", "Integration Partner", "Oslo", "Europe/Oslo"),
    ("luis", "Luis Ortega (Contoso)", "Luis", "Ortega", "luis.ortega@contoso.com", None, None, "America/Mexico_City"),
    ("hannah", "Hannah Schmidt", "Hannah", "Schmidt", "hannah.schmidt@tailspintoys.com", "Visiting Researcher", None, "Europe/Berlin"),
    ("aiko", "Aiko Mori", "Aiko", "Mori", "aiko.mori@wideworldimporters.com", None, None, "Asia/Tokyo"),
]

GUESTS = ["kari", "luis", "hannah", "aiko"]
GUEST_STATE = {"kari": "Accepted", "luis": "Accepted", "hannah": "Accepted", "aiko": "PendingAcceptance"}

# How each Teams user finds (or does not find) its Slack account (DESIGN §4.4). route = the
# first of mail → userPrincipalName → otherMails → proxyAddresses (smtp:) that matches an active
# Slack account, compared case-insensitively; what a later route finds (another account) is a
# warning, not a doubt; "none" = no Slack user has any of the person's addresses.
MATCH_ROUTE = {
    "pat": "userPrincipalName",   # mail is null, matched by UPN
    "lena": "otherMails",         # matched only by otherMails
    "omar": "proxyAddresses",     # matched only through an smtp: alias
    "sam": "mail",                # mail → his account; otherMails → an old one (a warning)
    "grady": "none", "victor": "none", "christie": "none", "luis": "none",
}
SLACK_DELETED = ["ben"]  # Slack account deactivated (deleted: true) but matched by mail
SLACK_EMAIL_CASE = {"megan": "Megan.Bowen@NorthwindLabs.com"}  # Slack side differs in case
SLACK_REAL_NAME = {"wangfang": "Fang Wang (王芳)", "dmitry": "Dmitry Ivanov", "alexk2": "Alexander Kim",
                   "jose": "Jose Nunez", "kari": "Kari Nordmann (Fabrikam)"}
SLACK_ADMINS = ["irvin", "patti"]
TZ_INFO = {
    "America/Los_Angeles": ("Pacific Daylight Time", -25200), "America/Vancouver": ("Pacific Daylight Time", -25200),
    "America/Toronto": ("Eastern Daylight Time", -14400), "America/Mexico_City": ("Central Standard Time", -21600),
    "Europe/London": ("British Summer Time", 3600), "Europe/Dublin": ("Irish Standard Time", 3600),
    "Europe/Madrid": ("Central European Summer Time", 7200), "Europe/Berlin": ("Central European Summer Time", 7200),
    "Europe/Stockholm": ("Central European Summer Time", 7200), "Europe/Oslo": ("Central European Summer Time", 7200),
    "Asia/Tokyo": ("Japan Standard Time", 32400), "Asia/Shanghai": ("China Standard Time", 28800),
    "Asia/Kolkata": ("India Standard Time", 19800),
}


# --------------------------------------------------------------------------------------------
# the cast: teams and channels

@dataclass
class ChannelSpec:
    key: str
    name: str
    created: str
    membership: str = "standard"
    description: str | None = None
    roots: int = 20  # filler root posts
    members: list[str] = field(default_factory=list)  # private/shared channels only
    owners: list[str] = field(default_factory=list)
    lang: str = "en"


@dataclass
class TeamSpec:
    key: str
    name: str
    nickname: str  # group mailNickname; also the SharePoint site name
    description: str
    visibility: str
    created: str
    owners: list[str]
    members: list[str]
    guests: list[str]
    channels: list[ChannelSpec]
    topic: str
    archived: bool = False
    # An older team whose group lacks "Team" in resourceProvisioningOptions: invisible to the
    # groups filter, listed by GET /teams (reference/graph.md §3.1, §12; known issue 13633).
    legacy_group: bool = False


INCIDENTS_DESCRIPTION = (
    "Live incidents and outages for every production service. Post here first when something "
    "is on fire: what is broken, since when, who is on it, and the status-page link. Keep one "
    "thread per incident; the incident commander posts updates every 30 minutes until resolved. "
    "Post-mortems go to the Escalations channel of Customer Success within five business days. "
    "Paging rules, severity definitions (SEV1–SEV4) and the on-call rota are pinned in the Files "
    "tab. Please do not use @channel for questions — page @On-call SRE instead."
)

TEAMS: list[TeamSpec] = [
    TeamSpec(
        key="eng", name="Engineering", nickname="Engineering",
        description="Northwind Labs engineering: platform, backend, frontend and SRE.",
        visibility="public", created="2019-03-04T16:02:11.318Z", topic="eng",
        owners=["adele", "alexw"],
        members=["alexk1", "jose", "dmitry", "bjorn", "leegu", "henrietta", "nestor", "priya",
                 "omar", "victor", "megan", "lena", "irvin", "grady"],
        guests=[],
        channels=[
            ChannelSpec("eng-general", "General", "2019-03-04T16:02:11.990Z",
                        description="Northwind Labs engineering: platform, backend, frontend and SRE.", roots=40),
            ChannelSpec("eng-backend", "Backend", "2019-03-05T09:14:37.201Z",
                        description="APIs, services, databases. Code reviews and design questions welcome.", roots=60),
            ChannelSpec("eng-incidents", "Incidents 🔥 & Outages!", "2019-04-18T07:55:02.640Z",
                        description=INCIDENTS_DESCRIPTION, roots=45),
            ChannelSpec("eng-releases", "Releases", "2019-06-03T13:20:45.118Z",
                        description="Release notes and deployment announcements (Release Bot posts here).", roots=30),
            ChannelSpec("eng-security", "Security Response", "2020-11-09T10:02:33.512Z", membership="private",
                        description="Vulnerability reports and security incidents. Need-to-know only.", roots=20,
                        owners=["adele", "dmitry"], members=["jose", "omar", "irvin"]),
        ],
    ),
    TeamSpec(
        key="rnd", name="R&D", nickname="RD",
        description="Research & Development: prototypes, lab work and experiments.",
        visibility="public", created="2019-05-06T08:31:50.774Z", topic="rnd", legacy_group=True,
        owners=["zoe", "johanna"],
        members=["christie", "pat", "priya", "lidia", "megan", "pradeep", "bjorn", "alexw"],
        guests=["hannah"],
        channels=[
            ChannelSpec("rnd-general", "General", "2019-05-06T08:31:51.402Z",
                        description="Research & Development: prototypes, lab work and experiments.", roots=25),
            ChannelSpec("rnd-prototypes", "Prototypes", "2019-05-20T12:45:09.337Z",
                        description="Prototype builds, bench results and photos from the lab.", roots=35),
            ChannelSpec("rnd-labnotes", "Lab Notes", "2022-01-10T09:05:44.861Z",
                        description="Daily lab notebook entries (R&D team).", roots=20),
        ],
    ),
    TeamSpec(
        key="rd", name="R-D", nickname="R-D",
        description="Regulatory & Documentation: submissions, audits and controlled documents.",
        visibility="private", created="2021-02-01T14:10:03.229Z", topic="rd",
        owners=["joni", "pradeep"],
        members=["christie", "zoe", "johanna", "pat", "lena", "irvin"],
        guests=[],
        channels=[
            ChannelSpec("rd-general", "General", "2021-02-01T14:10:03.877Z",
                        description="Regulatory & Documentation: submissions, audits and controlled documents.", roots=20),
            ChannelSpec("rd-labnotes", "Lab Notes", "2021-03-15T11:22:18.045Z",
                        description=None, roots=25),
            ChannelSpec("rd-submissions", "Submissions", "2021-04-12T08:40:27.930Z", membership="private",
                        description="Regulatory submissions in preparation (restricted).", roots=15,
                        owners=["joni", "pradeep"], members=["christie", "zoe"]),
        ],
    ),
    TeamSpec(
        key="jp", name="営業", nickname="msteams_8d3f1a",
        description="日本営業チーム (Japan sales team)",
        visibility="public", created="2020-04-01T00:30:12.505Z", topic="jp",
        owners=["hanako", "wangfang"],
        members=["kenji", "alexk2", "isaiah", "ben", "patti", "diego"],
        guests=["aiko"],
        channels=[
            ChannelSpec("jp-general", "General", "2020-04-01T00:30:13.118Z",
                        description="日本営業チーム (Japan sales team)", roots=25, lang="ja"),
            ChannelSpec("jp-customers", "顧客", "2020-04-02T02:11:40.266Z",
                        description="顧客ごとの商談メモ", roots=30, lang="ja"),
            ChannelSpec("jp-forecasts", "Forecasts", "2020-10-05T01:03:55.719Z",
                        description=None, roots=20, lang="ja"),
        ],
    ),
    TeamSpec(
        key="mkt", name="Marketing", nickname="Marketing",
        description="Campaigns, brand and social. (Archived after the 2023 re-org — see Customer Success.)",
        visibility="public", created="2019-09-10T15:00:27.612Z", topic="mkt", archived=True,
        owners=["miriam"],
        members=["lynne", "megan", "sam", "lidia", "christie", "patti", "ben"],
        guests=[],
        channels=[
            ChannelSpec("mkt-general", "General", "2019-09-10T15:00:28.150Z",
                        description="Campaigns, brand and social.", roots=25),
            ChannelSpec("mkt-campaigns", "Campaigns", "2019-09-11T10:30:02.994Z",
                        description="Campaign planning, launches and results.", roots=35),
            ChannelSpec("mkt-brand", "Brand & Social", "2020-02-17T16:48:19.473Z",
                        description="Brand guidelines, social calendar, design reviews.", roots=20),
        ],
    ),
    TeamSpec(
        key="cs", name="Customer Success & Support Operations (EMEA + APAC)",
        nickname="CustomerSuccessSupportOperations",
        description="Customer Success, support and renewals for EMEA and APAC.",
        visibility="private", created="2020-01-15T09:12:45.080Z", topic="cs",
        owners=["diego", "siobhan"],
        members=["ngozi", "rafael", "emilie", "alexk1", "alexk2", "victor", "wangfang", "isaiah",
                 "lena", "kenji", "sam", "jose"],
        guests=["luis"],
        channels=[
            ChannelSpec("cs-general", "General", "2020-01-15T09:12:45.731Z",
                        description="Customer Success, support and renewals for EMEA and APAC.", roots=30),
            ChannelSpec("cs-escalations", "Escalations, Post-Mortems and Lessons Learned", "2020-03-02T10:00:51.326Z",
                        description="Customer-facing escalations and the post-mortems that follow them.", roots=35),
            ChannelSpec("cs-quebec", "Québec Renewals", "2021-05-03T13:37:08.402Z",
                        description="Renouvellements — clients du Québec / Quebec renewals.", roots=20, lang="fr"),
            ChannelSpec("cs-partner", "Partner Bridge – Fabrikam", "2022-09-20T15:25:31.610Z", membership="shared",
                        description="Shared with Fabrikam: joint integration work and escalations.", roots=25,
                        owners=["diego", "siobhan"], members=["ngozi", "victor", "megan", "kari"]),
        ],
    ),
]

# Slack channels that already exist in the target workspace.
SLACK_EXISTING = [
    # name, created, archived, purpose, bot member
    ("general", "2018-11-05T17:00:00.000Z", False, "Company-wide announcements and work-based matters", True),
    ("random", "2018-11-05T17:00:01.000Z", False, "Non-work banter and water cooler conversation", False),
    ("it-helpdesk", "2019-01-14T09:30:00.000Z", False, "Ask IT anything", True),
    ("engineering-general", "2024-11-18T16:20:00.000Z", False, "Slack pilot: engineering chat (collides with Teams Engineering/General)", False),
    ("marketing-campaigns", "2021-02-10T11:00:00.000Z", True, "Old campaign channel from the 2021 Slack trial (archived)", False),
]


# --------------------------------------------------------------------------------------------
# text pools (original content, written for this demo). {placeholders} are filled at random.

FILL = {
    "service": ["checkout-api", "auth-gateway", "inventory-sync", "search-indexer", "billing-worker",
                "notifications", "orders-db", "edge-proxy"],
    "customer": ["Contoso", "Fabrikam", "Tailspin Toys", "Wide World Importers", "Adventure Works",
                 "Litware", "Coho Winery", "Alpine Ski House", "Margie's Travel", "Proseware",
                 "Woodgrove Bank", "Fourth Coffee & Co", "Trey Research", "Lamna Healthcare"],
    "jp_customer": ["株式会社ノースウィンド", "東京システム株式会社", "大阪精機", "さくら物流", "富士テック",
                    "みなと商事", "北斗エンジニアリング"],
    "weekday": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"],
    "sample": ["NW-204", "NW-311", "batch 7", "the 12 mm housing", "rev C of the sensor board",
               "the titanium bracket", "sample set 4B"],
    "doc": ["SOP-114", "DHF index", "risk file RMF-07", "the 510(k) cover letter", "IFU v3",
            "the biocompatibility report", "CAPA-2021-018"],
    "campaign": ["Spring Launch", "Back to School", "Holiday Giveaway", "Partner Week", "Webinar Series",
                 "Customer Stories", "Product Hunt day"],
}

POOLS: dict[str, dict[str, list[str]]] = {
    "eng": {
        "root": [
            "Heads up: {service} deploy to prod is scheduled for {weekday} at {h}:00 UTC. Please hold merges to main until the smoke tests are green.",
            "Anyone else seeing flaky timeouts in the {service} integration tests? Three reruns on PR #{n} before it passed.",
            "RFC: move {service} off the shared Postgres cluster onto its own instance. Draft is in the wiki, comments welcome by {weekday}.",
            "p95 latency for {service} went from {n2}ms to {n}ms after yesterday's release. Investigating.",
            "Reminder: on-call handover is at 09:30 tomorrow. Please update the runbook if you touched alerting this week.",
            "We're bumping the base image to Python 3.11 across all services. Tracking issue is NWL-{n}.",
            "Can someone review PR #{n}? It's the retry/backoff change for {service}, ~200 lines, mostly tests.",
            "Postgres minor upgrade for {service} completed with no downtime. Vacuum stats look healthy.",
            "The staging cluster will be recycled tonight between 22:00 and 23:00 CET.",
            "Who owns the {service} dashboards? Half the panels point at metrics we stopped emitting last year.",
            "Quick poll: feature flags in LaunchDarkly or in the config service? React with 👍 for config service.",
            "Found the memory leak in {service}: we cached every tenant's JWKS response forever. Fix in PR #{n}.",
            "Release {v} is tagged. Faster cold starts, the /orders pagination bug is fixed, and retries now honour Retry-After.",
            "Load test for {service}: sustained {n} rps with an error rate under 0.1%. Details in the thread.",
            "Moving CI from Jenkins to GitHub Actions this sprint; {service} is the first repo to switch.",
            "Is anyone using the old /v1/export endpoint? Planning to remove it from {service} at the end of the quarter.",
            "TLS certificates for *.northwindlabs.com renew on {weekday}. Nothing to do unless you pinned them (please don't).",
            "Design review for the new rate limiter on {weekday}, 16:00. Agenda: token buckets per tenant vs. per route.",
            "Heads up: Kafka consumer lag on {service} is climbing ({n} messages). Not customer-facing yet.",
            "New ADR merged: all services log in JSON with trace ids. Old text logs go away in {v}.",
            "The 'R&D → prod' data export job failed again overnight; restarted it manually.",
            "Code freeze starts {weekday} 18:00 for the quarterly release. Hotfixes only after that & please tag them.",
            "Welcome to the team, everyone who started this week! Onboarding doc is pinned in the Files tab.",
            "Dependabot opened {n} PRs against {service}. I'll batch the minor bumps into one.",
            "Can we agree on a naming rule for feature branches? Proposal: <ticket>-<short-description>.",
            "Error budget for {service} is at {pct}% for the month. Let's slow down risky changes.",
        ],
        "reply": [
            "Looks good to me.", "On it.", "Merged.", "Rolled back, monitoring now.",
            "Same here, started around {h}:15.", "Can you share the Grafana link?", "Which environment, staging or prod?",
            "I can pair on this tomorrow morning.", "Is there a ticket for this?", "That was me, sorry — fixed in PR #{n}.",
            "Approved with one nit about the log level.", "Let's take it to the design review.",
            "+1, the config service is already versioned.", "Confirmed fixed on staging.",
            "The flaky test is test_refund_idempotency; I'll quarantine it.", "Thanks for the quick turnaround!",
            "Did we update the runbook?", "p95 is back to {n2}ms.", "I'll write the ADR.",
            "Could this be the connection pool limit again? We're at {n} connections.",
            "Works for me after clearing the cache.", "Nice catch 👀", "Deploying now.", "Ship it 🚀",
        ],
        "subject": ["Deploy window", "Flaky tests", "RFC: database split", "Latency regression", "Code freeze",
                    "Release notes", "Load test results", "CI migration", "Dependency updates", "Heads up"],
    },
    "rnd": {
        "root": [
            "Bench results for {sample}: tensile strength within spec, elongation 4% lower than rev B.",
            "The climate chamber is booked {weekday} through Friday for the humidity cycling run.",
            "Uploaded photos of {sample} after 500 thermal cycles. Slight discoloration near the weld.",
            "Prototype {sample} is ready for the usability study; please sign up for a slot.",
            "Calibration of the force gauge is overdue — please don't use it until Johanna re-certifies it.",
            "Idea: print the bracket in PA12 instead of PLA to avoid the creep we saw at 60 °C.",
            "Lab notebook for today: repeated the adhesion test on {sample}, 3 of 5 passed.",
            "Reading group {weekday}: the paper on self-healing polymers. Link in the thread.",
            "Ordered more 0.2 mm nozzles and a spare hot end. ETA next week.",
            "Spectrometer software update broke the CSV export; use the PDF report for now.",
            "R&D review: we have budget for one more prototype iteration before the design freeze.",
            "Can someone cover the lab on {weekday}? I'm at the supplier visit.",
            "Results from the drop test: {sample} survived 26 drops from 1.2 m, the rev B housing cracked at drop 9.",
            "Reminder: safety glasses in the lab at all times, including for 'just a quick look'.",
        ],
        "reply": [
            "Great results!", "Can you add the raw data to the notebook?", "I'll cover {weekday}.",
            "Which batch was that?", "Interesting — humidity or temperature?", "Signed up for Thursday.",
            "Photos look fine to me; the discoloration is probably flux residue.", "Agree, PA12 is worth a try.",
            "Let's repeat with n=10 before we conclude anything.", "Thanks, noted in the lab log.",
            "Confirmed, the gauge is out until Monday.", "I'll bring the samples over after lunch.",
        ],
        "subject": ["Bench results", "Lab schedule", "Prototype ready", "Reading group", "Test results"],
    },
    "rd": {
        "root": [
            "Updated {doc} — please review the tracked changes before {weekday}.",
            "Audit prep: the notified body visit is confirmed for next month. Checklist in the Files tab.",
            "Who has the signed copy of {doc}? The one in the DMS is unsigned.",
            "Reminder: controlled documents only go out as PDF from the DMS, never as Word attachments.",
            "Training records for Q{q} are due; {n} people still have open items.",
            "Change request CR-{n} approved: new labelling template for the EU market.",
            "The FDA acknowledged the submission; the review clock started today.",
            "Risk management meeting moved to {weekday} 10:00. Agenda: {doc} and the new hazard list.",
            "Lab notes for the stability study are in; month {q} results are within limits.",
            "Please use the new template for deviation reports from now on (attached in the DMS).",
        ],
        "reply": [
            "Reviewed, two comments in the margin.", "I have it, scanning now.", "Thanks, filed.",
            "Done on my side.", "Can we push to {weekday}?", "Approved.", "I'll update the index.",
            "Noted — will tell the lab.", "Do we need a CAPA for this?", "Signed and uploaded.",
        ],
        "subject": ["Document review", "Audit prep", "Training records", "Change request", "Submission status"],
    },
    "jp": {
        "root": [
            "{jp_customer}様との打ち合わせ資料を共有します。ご確認ください。",
            "今月の売上見込みを更新しました。{n}件の案件がクロージング予定です。",
            "{jp_customer}様から見積もりの再提出依頼がありました。担当をお願いできますか？",
            "来週{weekday}の定例会議はオンラインで実施します。",
            "展示会のブース設営について、{jp_customer}様から問い合わせがありました。",
            "新しい価格表(2024年版)をアップロードしました。旧版は使わないでください。",
            "{jp_customer}様の契約更新、無事に完了しました！🎉",
            "本日の商談メモ: {jp_customer}様は導入時期を第{q}四半期に延期したいとのことです。",
            "出張精算の締め切りは今週金曜日です。",
            "Q{q} pipeline review: {n} opportunities, two of them over ¥10M. Details in the thread.",
        ],
        "reply": [
            "ありがとうございます！", "確認しました。", "了解です。", "対応します。",
            "資料ありがとうございます、助かります。", "明日までに修正版を送ります。", "承知しました 🙏",
            "先方には私から連絡します。", "Thanks, I'll join the call.", "よろしくお願いします。",
        ],
        "subject": ["商談メモ", "売上見込み", "定例会議", "見積もり", "Pipeline review"],
    },
    "mkt": {
        "root": [
            "Draft copy for the {campaign} landing page is ready for review.",
            "The {campaign} email went out: {pct}% open rate, 4.1% click-through. Best this year!",
            "Need final sign-off on the {campaign} banner by {weekday} noon.",
            "Social calendar for next month is in the Planner tab — please claim your posts.",
            "Photo shoot for the new product page is booked for {weekday}. Models & props confirmed.",
            "We hit 10k followers on LinkedIn 🎉 Thanks everyone who shared the launch post.",
            "Brand question: is it 'Northwind Labs' or 'NorthWind Labs' in headlines? (It's the former.)",
            "Q&A session with the product team for the {campaign} webinar is set for {weekday}.",
            "Budget update: {campaign} came in 8% under budget, so we can afford the extra video.",
            "Reminder: every external post needs a second pair of eyes before it's scheduled.",
        ],
        "reply": [
            "Love it!", "Approved ✅", "Small typo in the second paragraph.", "Can we try a warmer color?",
            "I'll schedule it.", "Great numbers!", "Claimed Tuesday and Thursday.", "Looks great to me.",
            "Let's A/B test the subject line.", "Legal needs to see this first.",
        ],
        "subject": ["Campaign review", "Launch results", "Sign-off needed", "Social calendar", "Brand question"],
    },
    "cs": {
        "root": [
            "{customer} opened a P1: exports failing since this morning. Ticket CS-{n}, engineering looped in.",
            "Renewal alert: {customer} is up for renewal in 30 days and usage dropped {pct}%.",
            "QBR deck for {customer} is ready; would appreciate a review before {weekday}.",
            "New macro for 'password reset loop' is live in the helpdesk.",
            "CSAT for last month: {pct}%. Top complaint was response time on weekends.",
            "{customer} asked whether we support SSO with their own IdP. Who knows the current answer?",
            "Escalation from {customer}: invoices show the wrong VAT rate since the last release.",
            "Handover: I'm out {weekday}; {customer} escalation goes to the backup owner.",
            "Reminder to log every customer call in the CRM, even the short ones.",
            "{customer} churned. Exit interview notes are in the thread — mostly pricing.",
            "Support rota for the holidays is posted; please swap directly with each other.",
            "Customer-reported bug: CSV import chokes on semicolons. Repro steps in CS-{n}.",
        ],
        "reply": [
            "I'll take it.", "Engineering confirmed the root cause.", "Customer is happy now 🙌",
            "Can you add the ticket number?", "Called them, they're fine with the workaround.",
            "Reviewed the deck, looks good.", "Logged in the CRM.", "Swapped with Rafael for Saturday.",
            "We do support SAML and OIDC.", "I'll follow up with their admin.", "Closing the ticket.",
        ],
        "subject": ["P1 escalation", "Renewal alert", "QBR review", "CSAT", "Customer bug"],
    },
    "fr": {
        "root": [
            "Renouvellement de {customer} : le client demande un rabais de {pct} % sur trois ans.",
            "Rappel : les contrats québécois doivent être envoyés en français (Loi 96).",
            "{customer} a signé ! Renouvellement de 36 mois, merci à toute l'équipe.",
            "Réunion pipeline {weekday} à 10 h (heure de l'Est).",
            "Can someone double-check the French translation of the renewal quote for {customer}?",
            "Nouvelle grille tarifaire en vigueur le 1er du mois prochain.",
        ],
        "reply": [
            "Merci !", "Parfait.", "Je m'en occupe.", "C'est noté.", "Bravo l'équipe 🎉",
            "Translation looks good to me.", "On en parle demain ?",
        ],
        "subject": ["Renouvellement", "Pipeline", "Contrat signé", "Rappel"],
    },
}

EMOJI_TAGS = [
    ('1f440_eyes', "👀", "Eyes"), ("smile", "😄", "Smile"), ("1f389_partypopper", "🎉", "Party popper"),
    ("yes", "👍", "Thumbs up"), ("heart", "❤️", "Heart"), ("1f680_rocket", "🚀", "Rocket"),
    ("1f64f_foldedhands", "🙏", "Folded hands"), ("laugh", "😆", "Laugh"),
]
LEGACY_EMOJI = [("smile", "😄", "Smile"), ("laugh", "😆", "Laugh"), ("heart", "❤️", "Heart"),
                ("like", "👍", "Like"), ("wink", "😉", "Wink")]
LEGACY_REACTIONS = ["like", "heart", "laugh", "surprised", "sad", "angry"]
UNICODE_REACTIONS = [("👍", "Thumbs up"), ("🎉", "Party popper"), ("💯", "Hundred points"),
                     ("❤️", "Red heart"), ("😂", "Face with tears of joy"), ("👀", "Eyes"),
                     ("🙏", "Folded hands"), ("🔥", "Fire")]


# --------------------------------------------------------------------------------------------
# the generator

JOINED = {  # people who joined later than their teams (no message, reaction or event before)
    "grady": "2024-06-03T08:00:00.000Z", "victor": "2022-01-10T08:00:00.000Z",
    "luis": "2021-09-01T08:00:00.000Z", "hannah": "2023-03-01T08:00:00.000Z",
    "kari": "2022-09-21T08:00:00.000Z",
}
NEVER_POSTS = ["aiko"]  # invited guest who never accepted the invitation


# --------------------------------------------------------------------------------------------
# the cast: chats (1:1, group, meeting). Generated after everything else, from their own
# random.Random(f"{seed}-chats"), so the teams, files and Slack data above never change.

@dataclass
class ChatSpec:
    short: str            # file name under graph/chats/ and the key in expected.json
    chat_type: str        # oneOnOne | group | meeting
    members: list[str]    # members at creation; the first one created the chat (organizer of a meeting)
    created: str
    end: str              # no activity at or after this instant
    purpose: str          # what the chat is for (README)
    topic: str | None = None
    pool: str = "eng"     # POOLS key for filler replies
    lines: list[str] = field(default_factory=list)  # chat-specific filler lines
    sessions: int = 4     # filler conversations (2–6 messages each)
    renamed: tuple[str, str] | None = None  # (when, initiator): topic set after creation (chatRenamed)
    added: list[tuple[str, list[str], str]] = field(default_factory=list)    # (when, keys, initiator)
    removed: list[tuple[str, list[str], str]] = field(default_factory=list)  # (when, keys, initiator)


SLACK_GROUP_DM_MAX = 9  # a Slack group DM (mpim) holds at most 9 people including the caller

CHATS: list[ChatSpec] = [
    ChatSpec("dm-adele-alexw", "oneOnOne", ["adele", "alexw"], "2021-03-02T17:04:11.204Z", "2026-06-30T00:00:00.000Z",
             "1:1 between two engineering leads: a shared OneDrive PDF, an inline image, an edit, a deletion (deletedDateTime set)",
             pool="eng", sessions=5, lines=[
                 "Do you have ten minutes before the design review?", "Can you cover my 1:1s on Friday?",
                 "I'm drafting the promo packet for Nestor, can you add a paragraph?",
                 "Headcount for next year is approved: two backend, one SRE.",
                 "The rate limiter RFC needs one more reviewer, interested?",
                 "Let's move our sync to Thursdays, Mondays are a mess.",
                 "Saw the incident review, nice work keeping it calm."]),
    ChatSpec("dm-megan-kari", "oneOnOne", ["megan", "kari"], "2022-10-03T13:20:45.118Z", "2025-12-15T00:00:00.000Z",
             "1:1 with a guest (Kari Nordmann, Fabrikam): a mention of a third person, a OneDrive PDF, reactions",
             pool="cs", sessions=4, lines=[
                 "Quick question about the webhook retries before I ask the whole channel.",
                 "Our release train moved to Tuesdays, FYI.", "Can we do the partner review next week instead?",
                 "The sandbox credentials expire Friday; I'll send new ones.",
                 "Thanks for the fast turnaround on the signature fix!", "Is the 429 still showing up on your side?"]),
    ChatSpec("dm-diego-victor", "oneOnOne", ["diego", "victor"], "2022-01-17T16:45:09.330Z", "2026-04-01T00:00:00.000Z",
             "1:1 with a person who has no Slack account (Victor Ng, contractor): an inline image and a message "
             "deleted WITHOUT deletedDateTime (empty body, from null)",
             pool="cs", sessions=4, lines=[
                 "Your contract extension is signed, see you next quarter.",
                 "Can you bill the Fabrikam work separately this month?",
                 "I'll be at the Vancouver office on Wednesday if you want to sync in person.",
                 "The partner bridge channel is the better place for the retry question.",
                 "Invoice received, thanks.", "Timesheet approved."]),
    ChatSpec("dm-zoe-christie", "oneOnOne", ["zoe", "christie"], "2020-06-08T08:15:42.907Z", "2022-08-05T00:00:00.000Z",
             "1:1 with the disabled user (Christie Cline) from before she left (2022-07-29): her OneDrive file is "
             "gone (a missing file), legacy reactions",
             pool="rnd", sessions=5, lines=[
                 "Are you in the lab today?", "Can you sign off the humidity run?",
                 "The supplier sent the wrong resin again.", "Lunch at 12:30?",
                 "I moved the stability samples to shelf B.", "Can you review my section of the report?"]),
    ChatSpec("dm-alexk1-alexk2", "oneOnOne", ["alexk1", "alexk2"], "2024-02-06T10:50:33.018Z", "2025-09-01T00:00:00.000Z",
             "1:1 between the two people both called \"Alex Kim\" (Seattle engineer and Tokyo account executive)",
             pool="cs", sessions=2, lines=[
                 "Got another email meant for you 😄 forwarding it.", "Woodgrove's SSO call moved to 9am Tokyo time.",
                 "Maybe we should add our offices to our display names.", "Thanks for covering the demo!"]),
    ChatSpec("group-lab-rota", "group", ["johanna", "zoe", "pat"], "2022-01-12T07:31:20.559Z", "2026-05-01T00:00:00.000Z",
             "small group chat WITHOUT a topic (topic null; Teams shows the member names): lab rota, inline photos",
             pool="rnd", sessions=5, lines=[
                 "Who's closing the lab tonight?", "I can take Saturday morning.",
                 "The climate chamber alarm went off again, it was the door sensor.",
                 "Swapping Tuesday for Thursday, ok?", "Calibration sticker on the scale expired.",
                 "Rota for next month is on the door."]),
    ChatSpec("group-checkout-launch", "group", ["megan", "lena", "alexw", "siobhan", "henrietta"],
             "2025-03-31T09:00:12.441Z", "2025-06-30T00:00:00.000Z",
             "group chat whose topic was set after creation (chatRenamed event): mentions, several people's "
             "reactions, a OneDrive PDF, an edit, a deletion, importance high",
             topic="Checkout v2 launch 🚀", renamed=("2025-03-31T09:02:40.006Z", "megan"), pool="eng", sessions=5, lines=[
                 "Comms draft is in the launch folder.", "Support macros are ready for day one.",
                 "QA sign-off depends on the payment sandbox fix.", "Launch date is still 6 May, right?",
                 "Status page template updated for the launch window.", "Feature flag plan: 5% → 25% → 100%."]),
    ChatSpec("group-apac-renewal", "group", ["hanako", "wangfang", "kenji", "alexk2"], "2023-11-06T01:12:08.220Z",
             "2024-08-01T00:00:00.000Z",
             "group chat in Japanese/Chinese with a non-Latin topic and a OneDrive CSV",
             topic="大阪精機 更新 / renewal", pool="jp", sessions=4, lines=[
                 "見積もりの最新版を共有します。", "先方の決裁は来週になりそうです。", "好的，我来准备中文版资料。",
                 "価格交渉は王さんにお任せします。", "契約書のドラフトを確認しました。"]),
    ChatSpec("group-offsite-2025", "group",
             ["patti", "megan", "adele", "miriam", "diego", "siobhan", "hanako", "zoe", "joni", "irvin"],
             "2025-01-13T16:30:05.774Z", "2025-06-01T00:00:00.000Z",
             "group chat LARGER than a Slack group DM allows (14 members > 9): four people were added later "
             "(membersAdded event); many reactions and mentions",
             topic="Offsite 2025 🏔️ planning", pool="mkt", sessions=6,
             added=[("2025-02-03T08:15:27.330Z", ["lena", "omar", "priya", "emilie"], "patti")], lines=[
                 "Venue shortlist: Leavenworth, Whistler, or the Berlin office.", "Please vote by Friday!",
                 "Dietary requirements go in the form, not here 🙏", "Can we avoid the week of the release?",
                 "Flights from Tokyo are cheaper on Tuesdays.", "Agenda draft: day 1 strategy, day 2 team time.",
                 "Budget is confirmed.", "Hotel block is booked."]),
    ChatSpec("meeting-sev1-review", "meeting",
             ["jose", "nestor", "adele", "omar", "bjorn", "siobhan", "diego", "henrietta"],
             "2025-03-19T12:04:33.612Z", "2025-03-28T00:00:00.000Z",
             "meeting chat (chatType meeting, topic = the meeting subject, onlineMeetingInfo): messages before, "
             "during (between callStarted and callEnded) and after the call; a OneDrive PDF",
             topic="SEV1 post-incident review: checkout 502s", pool="eng", sessions=0),
    ChatSpec("group-renewals-war-room", "group", ["diego", "emilie", "siobhan", "ngozi", "rafael"],
             "2023-09-18T08:10:44.302Z", "2024-02-01T00:00:00.000Z",
             "group chat whose member LEFT: Rafael Souza was removed (membersDeleted event), his earlier messages "
             "stay; Lena Fischer was added later (membersAdded event); an edit",
             topic="Renewals war room (Q4)", pool="cs", sessions=6,
             added=[("2023-10-02T07:45:00.518Z", ["lena"], "diego")],
             removed=[("2023-11-20T16:05:31.777Z", ["rafael"], "diego")], lines=[
                 "Coho Winery wants a 3-year term.", "Alpine Ski House is waiting on legal.",
                 "Renouvellement signé pour Margie's Travel 🎉", "Who owns the Litware call tomorrow?",
                 "Forecast sheet updated.", "Let's close Proseware before the holidays."]),
    ChatSpec("group-pipeline-hygiene", "group", ["isaiah", "ben", "patti", "kenji"], "2021-04-19T15:22:03.660Z",
             "2023-12-01T00:00:00.000Z",
             "small group chat WITHOUT a topic including Ben Walters, whose Slack account is deactivated "
             "(an unmapped member)",
             pool="cs", sessions=4, lines=[
                 "CRM cleanup: 40 stale opportunities closed.", "Please update close dates before Friday.",
                 "Forecast call moved to 8am.", "Two deals slipped to next quarter.",
                 "Dashboard refresh is fixed."]),
    ChatSpec("group-latam-overflow", "group", ["diego", "luis", "ngozi", "rafael"], "2021-09-06T14:00:27.115Z",
             "2023-06-01T00:00:00.000Z",
             "group chat with a guest who has no Slack account (Luis Ortega, Contoso)",
             topic="LATAM support overflow", pool="cs", sessions=4, lines=[
                 "¡Hola equipo! Tickets for this week are in the shared queue.",
                 "Three escalations from Mexico City overnight.", "Can you take the Spanish-language calls on Monday?",
                 "Macro translated to Spanish and Portuguese.", "Gracias, all closed."]),
]


class Generator:
    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.tenant_id = self.guid()
        self.users: dict[str, Json] = {}
        self.teams: dict[str, Json] = {}      # team key -> {"spec", "json", "members"}
        self.channels: dict[str, Json] = {}   # channel key -> {"spec", "team", "json", "members", "messages"}
        self.used_ids: set[int] = set()
        self.hosted: list[Json] = []          # index entries (with "file")
        self.drive: list[Json] = []           # index entries (with "file")
        self.drive_by_url: dict[str, Json] = {}
        self.files: dict[str, bytes] = {}     # path under graph/files/ -> bytes
        self.cast: dict[str, Json] = {}       # edge case -> where it lives
        self.missing_urls: list[str] = []
        self.app = {"id": self.guid(), "displayName": "Release Bot"}
        self.slack: Json = {}
        self.slack_ids: dict[str, str] = {}   # person key (+ extras) -> Slack user id
        self.images = self._make_images()
        # chats: built last (build_chats), from their own random.Random
        self.chats: dict[str, Json] = {}      # short name -> {"spec", "json", "members", "messages"}
        self.chat_hosted: list[Json] = []     # hostedContents entries with "chatId"
        self.chat_drive: list[Json] = []      # OneDrive driveItems entries
        self.chat_drive_by_url: dict[str, Json] = {}
        self.chat_missing_urls: list[str] = []
        self.chat_cast: dict[str, Json] = {}  # edge case -> where it lives (chats)
        self.onedrive_ids: dict[str, str] = {}  # person key -> OneDrive driveId

    # ---- ids -----------------------------------------------------------------------------
    def guid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def hex32(self) -> str:
        return f"{self.rng.getrandbits(128):032x}"

    def slack_id(self, prefix: str, n: int = 10) -> str:
        return prefix + "".join(self.rng.choice(ID_ALPHABET) for _ in range(n))

    def alloc(self, when: int) -> int:
        while when in self.used_ids:
            when += 1
        self.used_ids.add(when)
        return when

    # ---- images --------------------------------------------------------------------------
    def _make_images(self) -> dict[str, bytes]:
        out = {}
        c = Canvas(64, 40, (255, 255, 255))  # bar chart
        for i, hgt in enumerate([12, 22, 30, 18, 35, 26]):
            c.rect(4 + i * 10, 38 - hgt, 11 + i * 10, 38, (0x46, 0x4E, 0xB8))
        c.rect(0, 38, 64, 40, (60, 60, 60))
        out["chart"] = c.png()
        c = Canvas(72, 44, (245, 245, 245))  # "screenshot" of an error graph
        c.rect(0, 0, 72, 6, (0x46, 0x4E, 0xB8))
        for x in range(4, 68):
            y = 36 - (x % 9) - (22 if 30 < x < 44 else 0)
            c.rect(x, y, x + 1, y + 2, (0xC4, 0x31, 0x4B))
        out["screenshot"] = c.png()
        c = Canvas(60, 36, (255, 255, 255))  # architecture boxes
        c.rect(3, 12, 17, 24, (0x2B, 0x9B, 0x62))
        c.rect(23, 12, 37, 24, (0x1E, 0x53, 0xA3))
        c.rect(43, 12, 57, 24, (0xFD, 0xC0, 0x30))
        c.rect(17, 17, 23, 19, (0, 0, 0))
        c.rect(37, 17, 43, 19, (0, 0, 0))
        out["diagram"] = c.png()
        c = Canvas(48, 48, (255, 255, 255))  # prototype photo-ish
        c.circle(24, 24, 18, (0x8A, 0x8D, 0x91))
        c.circle(24, 24, 8, (0x33, 0x33, 0x33))
        out["photo"] = c.png()
        c = Canvas(32, 32, (255, 255, 255))  # custom emoji (Fabrikam logo)
        c.circle(16, 16, 14, (0xE8, 0x6A, 0x10))
        c.rect(10, 8, 14, 24, (255, 255, 255))
        c.rect(10, 8, 22, 12, (255, 255, 255))
        c.rect(10, 15, 20, 18, (255, 255, 255))
        out["emoji"] = c.png()
        for name, data in out.items():
            assert len(data) < 2048, (name, len(data))
        # the big one: 330 x 310 RGB of noise, incompressible, ~300 KB (size-cap tests)
        w, h = 330, 310
        noise = self.rng.randbytes(w * h * 3)
        out["heatmap"] = png_bytes(w, h, [noise[y * w * 3:(y + 1) * w * 3] for y in range(h)])
        return out

    # ---- users ---------------------------------------------------------------------------
    def build_users(self) -> None:
        for phones, (key, display, given, surname, local, job, office, _tz) in enumerate(PEOPLE, start=1):
            guest = key in GUESTS
            if guest:
                ext = local
                mail: str | None = ext
                upn = ext.replace("@", "_") + "#EXT#@" + ONMICROSOFT
                other = [ext]
                proxy = ["SMTP:" + ext]
                nickname = ext.replace("@", "_") + "#EXT#"
            else:
                mail = f"{local}@{DOMAIN}"
                upn = mail.lower()
                other = []
                proxy = [f"SMTP:{mail}", f"smtp:{local.lower()}@{ONMICROSOFT}"]
                nickname = local.lower()
            if key == "pat":  # no mailbox: mail null, no proxy addresses; matched by UPN
                mail, proxy = None, []
            if key == "lena":
                other = ["lena.fischer@adatum.com"]
            if key == "omar":
                proxy.insert(1, f"smtp:ohaddad@{DOMAIN}")
            if key == "sam":
                other = ["sam@adatum.com"]
            if key == "victor":
                other = ["victor@ng-consulting.ca"]
            if key == "megan":
                other = ["megan.bowen@outlook.com"]
            lang = {"hanako": "ja-JP", "kenji": "ja-JP", "wangfang": "zh-CN", "emilie": "fr-CA",
                    "dmitry": "ru-RU", "jose": "es-ES", "zoe": "sv-SE", "bjorn": "sv-SE"}.get(key, "en-US")
            self.users[key] = {
                "id": self.guid(),
                "businessPhones": [] if guest or phones % 3 == 0 else [f"+1 425 555 {100 + phones:04d}"],
                "displayName": display,
                "givenName": given,
                "jobTitle": job,
                "mail": mail,
                "mobilePhone": None,
                "officeLocation": office,
                "preferredLanguage": None if guest else lang,
                "surname": surname,
                "userPrincipalName": upn,
                "accountEnabled": key != "christie",
                "creationType": "Invitation" if guest else None,
                "externalUserState": GUEST_STATE.get(key) if guest else None,
                "mailNickname": nickname,
                "otherMails": other,
                "proxyAddresses": proxy,
                "userType": "Guest" if guest else "Member",
            }

    def identity(self, key: str, with_name: bool = True) -> Json:
        u = self.users[key]
        return {"@odata.type": "#microsoft.graph.teamworkUserIdentity", "id": u["id"],
                "displayName": u["displayName"] if with_name else None,
                "userIdentityType": "aadUser", "tenantId": self.tenant_id}

    def user_set(self, key: str, with_name: bool = True) -> Json:
        return {"application": None, "device": None, "user": self.identity(key, with_name)}

    def member(self, team_id: str, key: str, roles: list[str]) -> Json:
        u = self.users[key]
        opaque = base64.b64encode(f"0##1##{team_id}##{u['id']}".encode()).decode()
        return {
            "@odata.type": "#microsoft.graph.aadUserConversationMember",
            "id": opaque,
            "roles": roles,
            "displayName": u["displayName"],
            "visibleHistoryStartDateTime": "0001-01-01T00:00:00Z",
            "userId": u["id"],
            "email": u["mail"],
            "tenantId": self.tenant_id,
        }

    # ---- teams and channels --------------------------------------------------------------
    def build_teams(self) -> None:
        for spec in TEAMS:
            team_id = self.guid()
            chan_ids = [f"19:{self.hex32()}@thread.tacv2" for _ in spec.channels]
            general = chan_ids[0]
            team = {
                "id": team_id,
                "createdDateTime": spec.created,
                "displayName": spec.name,
                "description": spec.description,
                "internalId": general,
                "classification": None,
                "specialization": "none",
                "visibility": spec.visibility,
                "webUrl": (f"https://teams.microsoft.com/l/team/{quote(general, safe='')}/conversations"
                           f"?groupId={team_id}&tenantId={self.tenant_id}"),
                "isArchived": spec.archived,
                "tenantId": self.tenant_id,
                "summary": None,
                "memberSettings": {"allowCreateUpdateChannels": True, "allowDeleteChannels": True,
                                   "allowAddRemoveApps": True, "allowCreateUpdateRemoveTabs": True,
                                   "allowCreateUpdateRemoveConnectors": True,
                                   "allowCreatePrivateChannels": True},
                "guestSettings": {"allowCreateUpdateChannels": False, "allowDeleteChannels": False},
                "messagingSettings": {"allowUserEditMessages": True, "allowUserDeleteMessages": True,
                                      "allowOwnerDeleteMessages": True, "allowTeamMentions": True,
                                      "allowChannelMentions": True},
                "funSettings": {"allowGiphy": True, "giphyContentRating": "moderate",
                                "allowStickersAndMemes": True, "allowCustomMemes": True},
            }
            members = ([self.member(team_id, k, ["owner"]) for k in spec.owners]
                       + [self.member(team_id, k, []) for k in spec.members]
                       + [self.member(team_id, k, ["guest"]) for k in spec.guests])
            self.teams[spec.key] = {"spec": spec, "json": team, "members": members}
            for cs, cid in zip(spec.channels, chan_ids, strict=True):
                channel = {
                    "id": cid,
                    "createdDateTime": cs.created,
                    "displayName": cs.name,
                    "description": cs.description,
                    "isFavoriteByDefault": None,
                    "email": f"{spec.nickname}@{ONMICROSOFT}" if cid == general else None,
                    "tenantId": self.tenant_id,
                    "webUrl": (f"https://teams.microsoft.com/l/channel/{quote(cid, safe='')}/"
                               f"{quote(cs.name, safe='')}?groupId={team_id}&tenantId={self.tenant_id}"),
                    "membershipType": cs.membership,
                    "isArchived": False,
                    "layoutType": "post",
                }
                cmembers: list[Json] = []
                if cs.membership != "standard":
                    for k in cs.owners:
                        cmembers.append(self.member(team_id, k, ["owner"]))
                    for k in cs.members:
                        cmembers.append(self.member(team_id, k, ["guest"] if k in GUESTS else []))
                self.channels[cs.key] = {"spec": cs, "team": spec.key, "json": channel,
                                         "members": cmembers, "messages": []}

    def posters(self, ck: str, when: int) -> list[str]:
        ch = self.channels[ck]
        spec: ChannelSpec = ch["spec"]
        if spec.membership == "standard":
            t: TeamSpec = self.teams[ch["team"]]["spec"]
            keys = t.owners + t.owners + t.members + t.guests
        else:
            keys = spec.owners + spec.owners + spec.members
        out = []
        for k in keys:
            if k in NEVER_POSTS:
                continue
            if k == "christie" and when >= parse_iso(CHRISTIE_LEFT):
                continue
            if k in JOINED and when < parse_iso(JOINED[k]):
                continue
            out.append(k)
        return out

    def channel_end(self, ck: str) -> int:
        team: TeamSpec = self.teams[self.channels[ck]["team"]]["spec"]
        return parse_iso(ARCHIVE_AT) - HOUR if team.archived else END_MS

    # ---- messages ------------------------------------------------------------------------
    def msg_path(self, ck: str, msg: Json) -> str:
        ch = self.channels[ck]
        team_id = self.teams[ch["team"]]["json"]["id"]
        root = msg["replyToId"] or msg["id"]
        path = f"{GRAPH}/teams/{team_id}/channels/{ch['json']['id']}/messages/{root}"
        return path + (f"/replies/{msg['id']}" if msg["replyToId"] else "")

    def new_msg(self, ck: str, when: int | str, author: str | None = None, *,
                reply_to: Json | None = None, app: bool = False, system: bool = False) -> Json:
        if isinstance(when, str):
            when = parse_iso(when)
        ch = self.channels[ck]
        team_id = self.teams[ch["team"]]["json"]["id"]
        chan_id = ch["json"]["id"]
        assert when > parse_iso(ch["json"]["createdDateTime"]), ck
        assert when < self.channel_end(ck), (ck, iso(when))
        if author is not None and not system:
            assert author not in NEVER_POSTS
            assert not (author == "christie" and when >= parse_iso(CHRISTIE_LEFT))
        mid = self.alloc(when)
        root_id = reply_to["id"] if reply_to else str(mid)
        if system:
            sender = None
        elif app:
            sender = {"application": {"@odata.type": "#microsoft.graph.teamworkApplicationIdentity",
                                      "id": self.app["id"], "displayName": self.app["displayName"],
                                      "applicationIdentityType": "bot"},
                      "device": None, "user": None}
        else:
            sender = self.user_set(author)
        msg = {
            "id": str(mid),
            "replyToId": reply_to["id"] if reply_to else None,
            "etag": str(mid),
            "messageType": "systemEventMessage" if system else "message",
            "createdDateTime": iso(mid),
            "lastModifiedDateTime": iso(mid),
            "lastEditedDateTime": None,
            "deletedDateTime": None,
            "subject": None,
            "summary": None,
            "chatId": None,
            "importance": "normal",
            "locale": "en-us",
            "webUrl": (f"https://teams.microsoft.com/l/message/{quote(chan_id, safe='')}/{mid}"
                       f"?groupId={team_id}&tenantId={self.tenant_id}&createdTime={mid}"
                       f"&parentMessageId={root_id}"),
            "policyViolation": None,
            "eventDetail": None,
            "from": sender,
            "body": {"contentType": "html", "content": "<systemEventMessage/>" if system else ""},
            "channelIdentity": {"teamId": team_id, "channelId": chan_id},
            "attachments": [],
            "mentions": [],
            "reactions": [],
            "messageHistory": [],
        }
        ch["messages"].append(msg)
        return msg

    def where(self, ck: str, msg: Json, **extra: Any) -> Json:
        ch = self.channels[ck]
        team = self.teams[ch["team"]]["json"]
        info = {"team": team["displayName"], "channel": ch["json"]["displayName"],
                "teamId": team["id"], "channelId": ch["json"]["id"], "messageId": msg["id"]}
        if msg["replyToId"]:
            info["replyToId"] = msg["replyToId"]
        info.update(extra)
        return info

    def mark(self, case: str, ck: str, msg: Json, **extra: Any) -> Json:
        info = self.where(ck, msg, **extra)
        self.cast.setdefault(case, [])
        self.cast[case].append(info)
        return msg

    # ---- body parts ----------------------------------------------------------------------
    def fill(self, template: str) -> str:
        r = self.rng
        values = {k: r.choice(v) for k, v in FILL.items()}
        values.update(n=r.randint(120, 9800), n2=r.randint(40, 110), h=r.randint(6, 20),
                      pct=r.randint(3, 97), q=r.randint(1, 4),
                      v=f"v{r.randint(1, 4)}.{r.randint(0, 19)}.{r.randint(0, 9)}")
        return template.format(**values)

    def at_user(self, msg: Json, key: str, per_word: bool = False) -> str:
        name = self.users[key]["displayName"]
        parts = []
        for word in (name.split() if per_word else [name]):
            idx = len(msg["mentions"])
            ident = self.identity(key)
            ident["displayName"] = word
            msg["mentions"].append({"id": idx, "mentionText": word,
                                    "mentioned": {"application": None, "device": None,
                                                  "conversation": None, "user": ident}})
            parts.append(f'<at id="{idx}">{html.escape(word, quote=False)}</at>')
        return "&nbsp;".join(parts)

    def at_conversation(self, msg: Json, kind: str, conv_id: str, name: str) -> str:
        idx = len(msg["mentions"])
        msg["mentions"].append({"id": idx, "mentionText": name, "mentioned": {
            "application": None, "device": None, "user": None,
            "conversation": {"@odata.type": "#microsoft.graph.teamworkConversationIdentity",
                             "id": conv_id, "displayName": name, "conversationIdentityType": kind}}})
        return f'<at id="{idx}">{html.escape(name, quote=False)}</at>'

    def at_tag(self, msg: Json, team_key: str, name: str) -> str:
        idx = len(msg["mentions"])
        team_id = self.teams[team_key]["json"]["id"]
        tag_id = base64.b64encode(f"{team_id}##{self.tenant_id}##{self.hex32()}".encode()).decode()
        msg["mentions"].append({"id": idx, "mentionText": name, "mentioned": {
            "application": None, "device": None, "user": None, "conversation": None,
            "tag": {"@odata.type": "#microsoft.graph.teamworkTagIdentity", "id": tag_id,
                    "displayName": name}}})
        return f'<at id="{idx}">{html.escape(name, quote=False)}</at>'

    def hosted_id(self) -> tuple[str, str]:
        for _ in range(10_000):
            item = f"0-weu-d{self.rng.randint(1, 9)}-{self.hex32()}"
            raw = f"id=x_{item},type=1,url=https://eu-prod.asyncgw.teams.microsoft.com/v1/objects/{item}/views/imgo"
            enc = base64.b64encode(raw.encode()).decode()
            if "/" not in enc and "+" not in enc:
                return item, enc
        raise RuntimeError("no URL-safe hosted content id found")

    def add_hosted(self, ck: str, msg: Json, image: str) -> tuple[str, str]:
        """Register an inline image; return its hostedContents $value URL and its itemid."""
        item, hc_id = self.hosted_id()
        n = sum(1 for h in self.hosted if h["messageId"] == msg["id"])
        path = f"hosted/{msg['id']}-{n + 1}.png"
        self.files[path] = self.images[image]
        self.hosted.append({"messageId": msg["id"], "id": hc_id, "contentType": "image/png", "file": path})
        return f"{self.msg_path(ck, msg)}/hostedContents/{hc_id}/$value", item

    def img(self, ck: str, msg: Json, image: str, width: int, height: int) -> str:
        url, item = self.add_hosted(ck, msg, image)
        return (f'<img src="{url}" width="{width}" height="{height}" alt="image" '
                f'itemid="{item}" style="max-width:1440px">')

    def sharepoint_url(self, ck: str, name: str) -> str:
        ch = self.channels[ck]
        site = self.teams[ch["team"]]["spec"].nickname
        folder = ch["json"]["displayName"]
        return f"{SHAREPOINT}/sites/{site}/Shared%20Documents/{quote(folder, safe='')}/{quote(name, safe='')}"

    def attach_file(self, ck: str, msg: Json, name: str, data: bytes | None, mime: str,
                    url: str | None = None) -> str:
        """A reference attachment; data None = the file is gone from SharePoint."""
        att_id = self.guid()
        url = url or self.sharepoint_url(ck, name)
        if data is None:
            self.missing_urls.append(url)
        elif url not in self.drive_by_url:
            item_id = "01" + "".join(self.rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(32))
            drive_id = "b!" + base64.urlsafe_b64encode(self.rng.randbytes(48)).decode().rstrip("=")
            ext = Path(name).suffix.lower()
            path = f"drive/{item_id}{ext}"
            self.files[path] = data
            entry = {"driveId": drive_id, "id": item_id, "name": name, "webUrl": url,
                     "mimeType": mime, "file": path}
            self.drive.append(entry)
            self.drive_by_url[url] = entry
        msg["attachments"].append({"id": att_id, "contentType": "reference", "contentUrl": url,
                                   "content": None, "name": name, "thumbnailUrl": None,
                                   "teamsAppId": None})
        return f'<attachment id="{att_id}"></attachment>'

    def set_html(self, msg: Json, content: str) -> Json:
        msg["body"] = {"contentType": "html", "content": content}
        return msg

    def set_text(self, msg: Json, content: str) -> Json:
        msg["body"] = {"contentType": "text", "content": content}
        return msg

    def react(self, msg: Json, key: str, rtype: str, display: str | None, when: int,
              url: str | None = None) -> None:
        msg["reactions"].append({"reactionType": rtype, "displayName": display,
                                 "reactionContentUrl": url, "createdDateTime": iso(when),
                                 "user": self.user_set(key, with_name=False)})

    # ---- filler --------------------------------------------------------------------------
    def pool(self, ck: str) -> dict[str, list[str]]:
        spec: ChannelSpec = self.channels[ck]["spec"]
        if spec.lang == "ja":
            return POOLS["jp"]
        if spec.lang == "fr":
            return POOLS["fr"]
        return POOLS[self.teams[self.channels[ck]["team"]]["spec"].topic]

    def fill_message(self, ck: str, msg: Json, author: str, is_reply: bool) -> None:
        r = self.rng
        pool = self.pool(ck)
        sentence = self.fill(r.choice(pool["reply" if is_reply else "root"]))
        when = parse_iso(msg["createdDateTime"])
        old = when < parse_iso("2021-01-01T00:00:00.000Z")
        wrap = "div" if old and r.random() < 0.6 else "p"
        esc = html.escape(sentence, quote=False)
        roll = r.random()
        if roll < 0.07:
            self.set_text(msg, sentence)
            return
        if roll < 0.13:
            others = [k for k in self.posters(ck, when) if k != author]
            if others:
                who = r.choice(others)
                mention = self.at_user(msg, who, per_word=r.random() < 0.5)
                self.set_html(msg, f"<{wrap}>{mention} {esc}</{wrap}>")
                return
        if roll < 0.25 and not is_reply:
            second = html.escape(self.fill(r.choice(pool["root"])), quote=False)
            self.set_html(msg, f"<p>{esc}</p>\n<p>&nbsp;</p>\n<p>{second}</p>")
            return
        if roll < 0.30:
            second = html.escape(self.fill(r.choice(pool["reply"])), quote=False)
            self.set_html(msg, f"<p>{esc}<br>\n{second}</p>")
            return
        if roll < 0.34 and not is_reply:
            items = "".join(f"<li>{html.escape(self.fill(r.choice(pool['reply'])), quote=False)}</li>"
                            for _ in range(r.randint(2, 4)))
            tag = r.choice(["ul", "ol"])
            self.set_html(msg, f"<p>{esc}</p>\n<{tag}>\n{items}</{tag}>")
            return
        if roll < 0.39:
            url = r.choice(["https://status.northwindlabs.com/incidents", "https://wiki.northwindlabs.com/runbooks",
                            "https://northwindlabs.atlassian.net/browse/NWL-4821",
                            "https://github.com/northwindlabs/platform/pull/2213",
                            "https://northwindlabs.sharepoint.com/sites/Engineering/SitePages/On-call.aspx",
                            "https://www.example.com/search?q=teams&lang=en"])
            link = (f'<a href="{html.escape(url)}" rel="noreferrer noopener" title="{html.escape(url)}" '
                    f'target="_blank">{html.escape(url, quote=False)}</a>')
            self.set_html(msg, f"<{wrap}>{esc} {link}</{wrap}>")
            return
        if roll < 0.44:
            fmt = r.choice(["<strong>Update:</strong> {}", "<i>{}</i>", "<b>FYI</b> — {}",
                            "<u>Important</u>: {}", "{} <s>(no longer needed)</s>"])
            self.set_html(msg, f"<{wrap}>{fmt.format(esc)}</{wrap}>")
            return
        if roll < 0.50:
            if old:
                eid, alt, title = r.choice(LEGACY_EMOJI)
                emoji = (f'<span class="animated-emoticon-20-{eid}"><img itemscope="" itemtype="http://schema.skype.com/Emoji" '
                         f'itemid="{eid}" src="https://statics.teams.cdn.office.net/evergreen-assets/skype/v2/{eid}/default/20_f.png" '
                         f'title="{title}" alt="{alt}" style="width:20px;height:20px;"></span>')
            else:
                eid, alt, title = r.choice(EMOJI_TAGS)
                emoji = f'<emoji id="{eid}" alt="{alt}" title="{title}"></emoji>'
            self.set_html(msg, f"<{wrap}>{esc} {emoji}</{wrap}>")
            return
        if roll < 0.54 and self.teams[self.channels[ck]["team"]]["spec"].topic == "eng":
            code = r.choice(["kubectl rollout restart deploy/checkout-api", "SELECT count(*) FROM orders;",
                             "MAX_RETRIES=5", "git rebase -i main", "make test", "curl -I https://api.northwindlabs.com/health"])
            self.set_html(msg, f"<p>{esc} <code>{html.escape(code, quote=False)}</code></p>")
            return
        tail = "&nbsp;" if r.random() < 0.2 else ""
        self.set_html(msg, f"<{wrap}>{esc}{tail}</{wrap}>")

    def filler(self, ck: str) -> None:
        r = self.rng
        spec: ChannelSpec = self.channels[ck]["spec"]
        start = parse_iso(spec.created) + DAY
        end = self.channel_end(ck) - 2 * DAY
        times = sorted(r.randint(start, end) for _ in range(spec.roots))
        pool = self.pool(ck)
        for t in times:
            authors = self.posters(ck, t)
            author = r.choice(authors)
            root = self.new_msg(ck, t, author)
            roll = r.random()
            if roll < 0.25:
                root["subject"] = r.choice(pool["subject"])
            elif roll < 0.40:
                root["subject"] = ""
            if r.random() < 0.03:
                root["importance"] = "high"
            self.fill_message(ck, root, author, is_reply=False)
            n = 0 if r.random() < 0.38 else r.randint(1, 7)
            rt = parse_iso(root["createdDateTime"])
            for _ in range(n):
                rt += int(r.expovariate(1 / (45 * MINUTE))) + 20_000
                if rt >= end:
                    break
                cands = self.posters(ck, rt)
                who = author if (author in cands and r.random() < 0.3) else r.choice(cands)
                reply = self.new_msg(ck, rt, who, reply_to=root)
                self.fill_message(ck, reply, who, is_reply=True)

    # ---- reactions and edits on everything ---------------------------------------------
    def decorate(self) -> None:
        r = self.rng
        legacy_until = parse_iso("2022-06-01T00:00:00.000Z")
        for ck in self.channels:
            end = self.channel_end(ck)
            for msg in self.channels[ck]["messages"]:
                if msg["messageType"] != "message" or msg["from"] is None or msg["from"]["user"] is None:
                    continue
                if msg.get("_fixed") or msg["body"]["content"] == "" or msg["deletedDateTime"]:
                    continue  # hand-made reactions, or deleted (no reactions, no edits)
                created = parse_iso(msg["createdDateTime"])
                if r.random() < 0.18 and not msg["reactions"]:
                    people = self.posters(ck, created)
                    for who in r.sample(people, min(len(people), r.randint(1, 4))):
                        when = min(created + r.randint(30_000, 3 * DAY), end - 1)
                        if who in JOINED and when < parse_iso(JOINED[who]):
                            continue
                        if who == "christie" and when >= parse_iso(CHRISTIE_LEFT):
                            continue
                        if created < legacy_until or r.random() < 0.2:
                            self.react(msg, who, r.choice(LEGACY_REACTIONS), None, when)
                        else:
                            emo, name = r.choice(UNICODE_REACTIONS)
                            self.react(msg, who, emo, name, when)
                if r.random() < 0.04 and msg["lastEditedDateTime"] is None:
                    msg["lastEditedDateTime"] = iso(min(created + r.randint(20_000, 6 * HOUR), end - 5_000))

    def finalize(self) -> None:
        for ck in self.channels:
            msgs = self.channels[ck]["messages"]
            for msg in msgs:
                times = [parse_iso(msg["createdDateTime"])]
                if msg["lastEditedDateTime"]:
                    edited = parse_iso(msg["lastEditedDateTime"])
                    times.append(edited + 1 + (edited % 1500))  # modified just after the edit
                if msg["deletedDateTime"]:
                    times.append(parse_iso(msg["deletedDateTime"]))
                times += [parse_iso(x["createdDateTime"]) for x in msg["reactions"]]
                if msg.get("_modified"):
                    times.append(parse_iso(msg.pop("_modified")))
                msg.pop("_fixed", None)
                last = max(times)
                assert last < self.channel_end(ck) or ck not in self.archived_channels(), msg["id"]
                msg["lastModifiedDateTime"] = iso(last)
                msg["etag"] = str(last)
            msgs.sort(key=lambda m: (m["createdDateTime"], m["id"]))

    def archived_channels(self) -> list[str]:
        return [ck for ck, ch in self.channels.items() if self.teams[ch["team"]]["spec"].archived]

    # ---- system events -------------------------------------------------------------------
    def system(self, ck: str, when: int | str, detail: Json, reply_to: Json | None = None) -> Json:
        msg = self.new_msg(ck, when, system=True, reply_to=reply_to)
        msg["eventDetail"] = detail
        self.mark("system_event", ck, msg, eventType=detail["@odata.type"].split(".")[-1])
        return msg

    def system_events(self) -> None:
        renamed_from = {"rd": "Regulatory Docs"}
        for tk, team in self.teams.items():
            spec: TeamSpec = team["spec"]
            general = spec.channels[0].key
            g_created = parse_iso(spec.channels[0].created)
            owner = spec.owners[0]
            self.system(general, g_created + 1_500, {
                "@odata.type": "#microsoft.graph.teamCreatedEventMessageDetail",
                "teamId": team["json"]["id"],
                "teamDisplayName": renamed_from.get(tk, spec.name),
                "teamDescription": spec.description,
                "initiator": self.user_set(owner, with_name=False)})
            initial = [k for k in spec.owners[1:] + spec.members + spec.guests if k not in JOINED]
            self.system(general, g_created + 4 * MINUTE + 2_117, {
                "@odata.type": "#microsoft.graph.membersAddedEventMessageDetail",
                "visibleHistoryStartDateTime": "0001-01-01T00:00:00Z",
                "members": [self.identity(k, with_name=False) for k in initial],
                "initiator": self.user_set(owner, with_name=False)})
            for cs in spec.channels[1:]:
                if cs.membership == "private":
                    continue  # private channels are not announced in General
                self.system(general, parse_iso(cs.created) + 1_200, {
                    "@odata.type": "#microsoft.graph.channelAddedEventMessageDetail",
                    "channelId": self.channels[cs.key]["json"]["id"],
                    "channelDisplayName": cs.name,
                    "initiator": self.user_set(owner, with_name=False)})
            for k in spec.members + spec.guests:
                if k in JOINED:
                    self.system(general, parse_iso(JOINED[k]) + 3 * MINUTE, {
                        "@odata.type": "#microsoft.graph.membersAddedEventMessageDetail",
                        "visibleHistoryStartDateTime": "0001-01-01T00:00:00Z",
                        "members": [self.identity(k, with_name=False)],
                        "initiator": self.user_set(owner, with_name=False)})
        self.system("rd-general", "2021-06-14T09:03:27.551Z", {
            "@odata.type": "#microsoft.graph.teamRenamedEventMessageDetail",
            "teamId": self.teams["rd"]["json"]["id"], "teamDisplayName": "R-D",
            "initiator": self.user_set("joni", with_name=False)})
        self.system("rd-general", "2022-08-01T07:30:12.004Z", {
            "@odata.type": "#microsoft.graph.membersDeletedEventMessageDetail",
            "members": [self.identity("christie", with_name=False)],
            "initiator": self.user_set("joni", with_name=False)})
        self.system("eng-general", "2019-06-03T13:31:09.870Z", {
            "@odata.type": "#microsoft.graph.teamsAppInstalledEventMessageDetail",
            "teamsAppId": self.app["id"], "teamsAppDisplayName": self.app["displayName"],
            "initiator": self.user_set("adele", with_name=False)})
        self.system("eng-incidents", "2022-02-07T10:15:44.213Z", {
            "@odata.type": "#microsoft.graph.channelRenamedEventMessageDetail",
            "channelId": self.channels["eng-incidents"]["json"]["id"],
            "channelDisplayName": "Incidents 🔥 & Outages!",
            "initiator": self.user_set("adele", with_name=False)})
        self.system("eng-incidents", "2022-02-07T10:16:02.871Z", {
            "@odata.type": "#microsoft.graph.channelDescriptionUpdatedEventMessageDetail",
            "channelId": self.channels["eng-incidents"]["json"]["id"],
            "channelDescription": INCIDENTS_DESCRIPTION,
            "initiator": self.user_set("adele", with_name=False)})

    # ---- Engineering -----------------------------------------------------------------------
    def featured_engineering(self) -> None:
        r = self.rng
        # team mention + high importance
        m = self.new_msg("eng-general", "2023-10-02T15:04:27.339Z", "adele")
        m["subject"] = "All-hands moved"
        m["importance"] = "high"
        team = self.teams["eng"]["json"]
        self.set_html(m, f"<p>{self.at_conversation(m, 'team', team['id'], 'Engineering')} all-hands moves to "
                         "<strong>Thursday 17:00 CET</strong> this week. Agenda: Q4 roadmap, on-call changes, "
                         "and Q&amp;A.</p>")
        self.mark("team_mention", "eng-general", m)
        self.mark("importance_high", "eng-general", m)
        # a file that is referenced again from another team
        m = self.new_msg("eng-general", "2024-06-20T16:40:05.112Z", "megan")
        m["subject"] = "Q3 roadmap"
        roadmap = pdf_bytes("Q3 Roadmap", ["Northwind Labs - engineering roadmap, Q3 2024",
                                           "1. Checkout v2 (rate limiter, retries)",
                                           "2. Search indexer rewrite", "3. SOC 2 Type II evidence"])
        att = self.attach_file("eng-general", m, "Q3 Roadmap.pdf", roadmap, "application/pdf")
        self.set_html(m, f"<p>Here is the Q3 roadmap we discussed at the all-hands.</p>\n{att}")
        self.mark("file_pdf", "eng-general", m, name="Q3 Roadmap.pdf")
        self.roadmap_url = m["attachments"][0]["contentUrl"]

        # Backend: code in every shape
        m = self.new_msg("eng-backend", "2026-02-10T10:22:31.907Z", "alexk1")
        self.set_html(m, "<p>Here's the query that's timing out:</p>\n<codeblock class=\"PlainText\"><code>"
                         "SELECT o.id, o.total\nFROM orders o\nWHERE o.created_at &gt;= now() - interval '7 days'\n"
                         "  AND o.status &lt;&gt; 'cancelled'\nORDER BY o.created_at DESC;</code></codeblock>\n"
                         "<p>Any idea why it ignores the index?</p>")
        self.mark("code_codeblock", "eng-backend", m)
        rep = self.new_msg("eng-backend", "2026-02-10T10:31:02.448Z", "nestor", reply_to=m)
        self.set_html(rep, "<p>The <code>&lt;&gt;</code> on status kills it. Try a partial index "
                           "<code>WHERE status IN ('paid', 'shipped')</code> "
                           '<emoji id="1f440_eyes" alt="👀" title="Eyes"></emoji></p>')
        self.mark("emoji_tag", "eng-backend", rep)
        m = self.new_msg("eng-backend", "2022-05-11T13:02:44.870Z", "nestor")
        self.set_html(m, "<p>checkout pods are flapping again:</p>\n<pre>$ kubectl get pods -n checkout\n"
                         "NAME                            READY   STATUS             RESTARTS\n"
                         "checkout-api-7d9f8b6c5-x2k4p    1/1     Running            0\n"
                         "checkout-api-7d9f8b6c5-q8w3z    0/1     CrashLoopBackOff   12\n"
                         "# note: &lt;none&gt; &amp; &quot;quoted&quot; survive here</pre>")
        self.mark("code_pre", "eng-backend", m)
        m = self.new_msg("eng-backend", "2023-03-08T09:45:10.233Z", "leegu")
        self.set_html(m, "<p>Set <code>MAX_RETRIES=5</code> and <code>BACKOFF_MS=250</code> in "
                         "<code>billing-worker</code>'s env, then restart. Don't touch "
                         "<code>&lt;tenant&gt;_LIMIT</code>.</p>")
        self.mark("code_inline", "eng-backend", m)
        bid = "e3c9b2d4-7f1a-4c55-9d0e-2b6f8a1c3e57"
        m = self.new_msg("eng-backend", "2025-08-05T12:04:58.610Z", "priya")
        self.set_html(m, "<p>Helper for the batch writer, in case anyone needs it:</p>\n<p></p>\n"
                         f"<p itemtype=\"http://schema.skype.com/CodeBlockEditor\" id=\"x_codeBlockEditor-{bid}\">\n&nbsp;</p>\n"
                         f"<pre class=\"language-python\" itemid=\"codeBlockEditor-{bid}\"><code>"
                         "<span class=\"hljs-keyword\">def</span>&nbsp;<span class=\"hljs-function\">write_batch</span>"
                         "(rows,&nbsp;size=<span class=\"hljs-number\">500</span>):<br>"
                         "&nbsp;&nbsp;&nbsp;&nbsp;<span class=\"hljs-string\">\"\"\"Write rows in chunks &amp; commit each.\"\"\"</span><br>"
                         "&nbsp;&nbsp;&nbsp;&nbsp;<span class=\"hljs-keyword\">for</span>&nbsp;i&nbsp;<span class=\"hljs-keyword\">in</span>"
                         "&nbsp;<span class=\"hljs-built_in\">range</span>(<span class=\"hljs-number\">0</span>,&nbsp;"
                         "<span class=\"hljs-built_in\">len</span>(rows),&nbsp;size):<br>"
                         "&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;db.insert(rows[i:i&nbsp;+&nbsp;size])&nbsp;&nbsp;"
                         "<span class=\"hljs-comment\"># if len &lt; size we're done</span></code></pre>")
        self.mark("code_highlightjs", "eng-backend", m)
        m = self.new_msg("eng-backend", "2026-03-03T08:19:40.015Z", "alexw")
        self.set_html(m, "<p>Use <code>retry()</code> like this:</p>\n<codeblock class=\"PlainText\"><code>"
                         "for attempt in range(5):\n    try:\n        return call()\n    except Timeout:\n"
                         "        sleep(2 ** attempt)</code></codeblock>")
        self.mark("code_inline_then_codeblock", "eng-backend", m)
        m = self.new_msg("eng-backend", "2024-09-12T14:28:03.771Z", "henrietta")
        m["subject"] = "Regression results"
        self.set_html(m, "<p>Regression results for release 2024.9:</p>\n<table itemprop=\"copy-paste-table\">\n"
                         "<thead>\n<tr><th>Suite</th><th>Passed</th><th>Failed</th><th>Notes</th></tr>\n</thead>\n"
                         "<tbody>\n<tr><td>checkout-api</td><td>412</td><td>0</td><td>&nbsp;</td></tr>\n"
                         "<tr><td>auth-gateway</td><td>198</td><td>2</td><td>token refresh &amp; clock skew</td></tr>\n"
                         "<tr><td>search-indexer</td><td>87</td><td>1</td><td><i>flaky</i> &lt;known&gt;</td></tr>\n"
                         "</tbody>\n</table>")
        self.mark("table_header_row", "eng-backend", m)
        m = self.new_msg("eng-backend", "2021-11-23T10:12:55.302Z", "bjorn")
        rows = [("Service", "Owner", "SLO"), ("orders-db", "Björn", "99.95%"), ("edge-proxy", "Nestor", "99.99%")]
        cells = "".join("<tr>\n" + "".join(f"<td>\n<p>{'<strong>' if i == 0 else ''}{html.escape(c)}"
                                           f"{'</strong>' if i == 0 else ''}</p>\n</td>\n" for c in row) + "</tr>\n"
                        for i, row in enumerate(rows))
        self.set_html(m, f"<p>Ownership table:</p>\n<table itemprop=\"copy-paste-table\">\n<tbody>\n{cells}</tbody>\n</table>")
        self.mark("table_first_row_header", "eng-backend", m)
        m = self.new_msg("eng-backend", "2025-04-14T09:03:17.661Z", "lena")
        self.set_html(m, f"<p>{self.at_user(m, 'megan', per_word=True)} can you confirm the launch date for the "
                         "new checkout? Backend is ready on our side.</p>")
        self.mark("mention_per_word", "eng-backend", m, user="Megan Bowen")
        rep = self.new_msg("eng-backend", "2025-04-14T09:40:51.208Z", "megan", reply_to=m)
        self.set_html(rep, "<p>Confirmed: 6 May. Comms go out the week before.</p>")
        # long log paste in a code block
        m = self.new_msg("eng-backend", "2025-11-20T17:55:36.400Z", "omar")
        lines = []
        t0 = parse_iso("2025-11-20T17:40:00.000Z")
        for i in range(64):
            lines.append(f"{iso(t0 + i * 1371)} WARN  checkout-api[{1000 + i % 7}] upstream=orders-db "
                         f"latency_ms={180 + (i * 37) % 900} retry={i % 4} path=/v2/orders?page={i} &amp; status=&lt;pending&gt;")
        self.set_html(m, "<p>Full log from the canary, sorry for the wall of text:</p>\n"
                         f"<codeblock class=\"PlainText\"><code>{chr(10).join(lines)}</code></codeblock>")
        self.mark("long_code_block", "eng-backend", m, chars=len(m["body"]["content"]))
        # a small PNG attached as a file (not pasted inline)
        m = self.new_msg("eng-backend", "2023-11-14T15:48:20.562Z", "alexw")
        m["subject"] = "Checkout v2 architecture"
        att = self.attach_file("eng-backend", m, "architecture-diagram.png", self.images["diagram"], "image/png")
        self.set_html(m, f"<p>Architecture for checkout v2 (edge-proxy → checkout-api → orders-db):</p>\n{att}")
        self.mark("file_png", "eng-backend", m, name="architecture-diagram.png")
        # an edit
        m = self.new_msg("eng-backend", "2024-02-27T11:11:11.111Z", "alexw")
        self.set_html(m, "<p>Correction: the migration window is <strong>Saturday 06:00–08:00 UTC</strong> "
                         "(not Sunday as I wrote at first).</p>")
        m["lastEditedDateTime"] = "2024-02-27T11:19:42.504Z"
        m["_fixed"] = True
        self.mark("edited", "eng-backend", m)

        # Incidents: the longest thread, tag/channel mentions, images, the big file, injection text
        root = self.new_msg("eng-incidents", "2025-03-18T08:12:09.531Z", "jose")
        root["subject"] = "SEV1: checkout-api returning 502s"
        root["importance"] = "urgent"
        self.set_html(root, f"<p>{self.at_tag(root, 'eng', 'On-call SRE')} checkout-api is returning 502s for ~30% "
                            "of requests since 08:05 UTC. Status page: <a href=\"https://status.northwindlabs.com/incidents/2025-03-18\" "
                            "rel=\"noreferrer noopener\" title=\"https://status.northwindlabs.com/incidents/2025-03-18\" "
                            "target=\"_blank\">status.northwindlabs.com</a>. I'm incident commander.</p>")
        self.mark("longest_thread_root", "eng-incidents", root)
        self.mark("mention_tag", "eng-incidents", root)
        self.mark("importance_urgent", "eng-incidents", root)
        self.incident_root = root
        updates = [
            "Seeing the same from eu-west.", "Error rate 31% → 27%.", "edge-proxy pods look healthy.",
            "orders-db CPU is at 98%.", "Rolling back checkout-api to v2.14.3.", "Rollback done, watching.",
            "Status page updated.", "Next update in 30 minutes.", "Connection pool exhausted on orders-db.",
            "Raising max_connections to 400 as a stopgap.", "Customer reports coming in via support.",
            "Error rate down to 12%.", "Found a slow query from the new recommendations widget.",
            "Disabling the widget with the feature flag.", "Flag flipped.", "p95 back under 400 ms.",
            "Still some 502s from ap-southeast.", "CDN cache purge done.", "Error rate 2%.",
            "Keeping the incident open until we've had an hour clean.", "I'll start the post-mortem doc.",
            "Support has a macro for affected customers.", "Adding a canary alert for pool saturation.",
            "Can someone grab the slow query log?", "Attached to the ticket.", "Thanks all, great teamwork.",
        ]
        people = ["jose", "nestor", "adele", "omar", "alexw", "alexk1", "bjorn", "henrietta", "victor", "priya"]
        t = parse_iso(root["createdDateTime"])
        for i in range(137):
            t += r.randint(70_000, 290_000)
            who = people[i % len(people)] if i % 3 else r.choice(people)
            rep = self.new_msg("eng-incidents", t, who, reply_to=root)
            if i == 5:
                self.set_html(rep, "<p>Error rate graph from the dashboard:</p>\n<p>"
                                   + self.img("eng-incidents", rep, "screenshot", 720, 440) + "</p>")
                self.mark("inline_image", "eng-incidents", rep)
            elif i == 11:
                ch = self.channels["eng-backend"]["json"]
                self.set_html(rep, "<p>Moving the DB discussion to "
                                   f"{self.at_conversation(rep, 'channel', ch['id'], ch['displayName'])}"
                                   " so this thread stays on status.</p>")
                self.mark("mention_channel", "eng-incidents", rep)
            elif i == 40:
                att = self.attach_file("eng-incidents", rep, "load-test-heatmap.png", self.images["heatmap"], "image/png")
                self.set_html(rep, f"<p>Heatmap from the load test that reproduces it:</p>\n{att}")
                self.mark("file_large", "eng-incidents", rep, name="load-test-heatmap.png",
                          size=len(self.images["heatmap"]))
            elif i == 136:
                self.set_html(rep, "<p><strong>Resolved</strong> at 17:02 UTC. Post-mortem will follow in "
                                   "Customer Success › Escalations.</p>")
            else:
                self.set_html(rep, f"<p>{html.escape(updates[i % len(updates)], quote=False)}</p>")
        m = self.new_msg("eng-incidents", "2024-04-09T14:02:51.660Z", "victor")
        m["subject"] = "Slack bridge test — please ignore"
        self.set_html(m, "<p>Testing the Slack bridge before the migration, please ignore:</p>\n<ul>\n"
                         "<li>&lt;!channel&gt; should not ping anyone</li><li>&amp;lt;!here&amp;gt; neither</li>"
                         "<li>&lt;@U123ABC&gt; is not a real user</li><li>@everyone is just text</li>"
                         "<li>&lt;!subteam^S123&gt; is not a user group</li></ul>\n"
                         "<p>Also <code>&lt;!channel&gt;</code> inside code &amp; in a link: "
                         "<a href=\"https://example.com/?a=1&amp;b=%3C!here%3E\" rel=\"noreferrer noopener\" "
                         "title=\"https://example.com/?a=1&amp;b=%3C!here%3E\" target=\"_blank\">&lt;!here&gt;</a></p>")
        self.mark("injection_html", "eng-incidents", m)
        rep = self.new_msg("eng-incidents", "2024-04-09T14:06:30.002Z", "jose", reply_to=m)
        self.set_text(rep, "Plain-text reply: <!here> <!channel> <@U123ABC> <!subteam^S123|@oncall> & @everyone <b>not bold</b>")
        self.mark("injection_text", "eng-incidents", rep)
        m = self.new_msg("eng-incidents", "2023-07-21T06:48:12.905Z", "nestor")
        m["importance"] = "high"
        m["subject"] = "Elevated error rate on auth-gateway"
        self.set_html(m, "<p>auth-gateway 5xx at 4%, looks like the IdP is slow. Dashboard:</p>\n<p>"
                         + self.img("eng-incidents", m, "chart", 640, 400) + "</p>")
        self.mark("importance_high", "eng-incidents", m)
        self.mark("inline_image", "eng-incidents", m)

        # Releases: the bot
        for when, version, extra in [("2024-11-05T18:00:03.221Z", "2024.11.1", 3),
                                     ("2025-06-12T17:30:01.870Z", "2025.6.2", 1)]:
            m = self.new_msg("eng-releases", when, app=True)
            card_id = self.hex32()
            card = {"type": "AdaptiveCard", "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "version": "1.4", "body": [
                        {"type": "TextBlock", "size": "Medium", "weight": "Bolder",
                         "text": f"🚀 Release {version} deployed to production"},
                        {"type": "FactSet", "facts": [{"title": "Services", "value": "checkout-api, auth-gateway"},
                                                      {"title": "Duration", "value": "14 min"},
                                                      {"title": "Triggered by", "value": "Alex Wilber"}]}],
                    "actions": [{"type": "Action.OpenUrl", "title": "Release notes",
                                 "url": f"https://github.com/northwindlabs/platform/releases/tag/{version}"}]}
            m["summary"] = f"Release {version} deployed to production"
            m["attachments"].append({"id": card_id, "contentType": "application/vnd.microsoft.card.adaptive",
                                     "contentUrl": None, "content": json.dumps(card, ensure_ascii=False, indent=2),
                                     "name": None, "thumbnailUrl": None, "teamsAppId": self.app["id"]})
            self.set_html(m, f'<attachment id="{card_id}"></attachment>')
            self.mark("bot_adaptive_card", "eng-releases", m)
            t = parse_iso(when)
            for k in range(extra):
                t += 7 * MINUTE + k * 1_003
                rep = self.new_msg("eng-releases", t, ["alexw", "henrietta", "nestor"][k], reply_to=m)
                self.set_html(rep, "<p>" + ["Smoke tests green ✅", "Thanks bot 🙂", "Verified in prod."][k] + "</p>")
        m = self.new_msg("eng-releases", "2025-09-01T08:00:02.114Z", app=True)
        self.set_html(m, "<p><strong>Build 4821 succeeded</strong> for <code>checkout-api</code> "
                         "(main @ 3f9c2e1) — 412 tests, 0 failures.</p>")
        self.mark("bot_message", "eng-releases", m)

        # Security Response (private): a PDF and non-Latin author
        m = self.new_msg("eng-security", "2024-10-08T07:41:30.118Z", "dmitry")
        m["subject"] = "Pentest 2024 results"
        m["importance"] = "high"
        pdf = pdf_bytes("Pentest summary 2024", ["Scope: checkout-api, auth-gateway, edge-proxy",
                                                 "Findings: 0 critical, 2 high, 5 medium",
                                                 "H-1: missing rate limit on /v2/login",
                                                 "H-2: verbose error pages (stack traces)"])
        att = self.attach_file("eng-security", m, "Pentest summary 2024.pdf", pdf, "application/pdf")
        self.set_html(m, f"<p>Report from the external pentest is in. Two highs, fixes tracked in SEC-41 and SEC-42.</p>\n{att}")
        self.mark("file_pdf", "eng-security", m, name="Pentest summary 2024.pdf")
        self.mark("private_channel_message", "eng-security", m)

    # ---- R&D, R-D --------------------------------------------------------------------------
    def featured_research(self) -> None:
        m = self.new_msg("rnd-prototypes", "2023-02-15T10:20:33.480Z", "zoe")
        m["subject"] = "Test plan for rev D"
        self.set_html(m, "<p>Test plan for rev D:</p>\n<ol>\n<li>Mechanical\n<ul>\n<li>drop test (1.2 m, 26 drops)</li>"
                         "<li>vibration\n<ul>\n<li>random, 5–500 Hz</li><li>sine sweep</li></ul>\n</li></ul>\n</li>"
                         "<li>Thermal\n<ol>\n<li>−20 °C → 60 °C, 500 cycles</li><li>humidity 95% RH, 96 h</li></ol>\n</li>"
                         "<li>Usability study (n=12)</li></ol>\n<p>Ping me if something is missing.</p>")
        self.mark("nested_lists", "rnd-prototypes", m)
        m = self.new_msg("rnd-prototypes", "2024-05-07T13:55:02.306Z", "johanna")
        self.set_html(m, "<p>Rev D after the drop test (left) and the thermal run (right):</p>\n<p>"
                         + self.img("rnd-prototypes", m, "photo", 480, 480) + "&nbsp;"
                         + self.img("rnd-prototypes", m, "photo", 480, 480) + "</p>")
        self.mark("inline_image", "rnd-prototypes", m, images=2)
        m = self.new_msg("rnd-prototypes", "2023-09-12T08:31:47.995Z", "hannah")
        self.set_html(m, "<p>Hi all, Hannah from Tailspin here — I'll be in the lab Tuesdays for the joint study. "
                         "Architecture sketch of our test rig:</p>\n<p>"
                         + self.img("rnd-prototypes", m, "diagram", 600, 360) + "</p>")
        self.mark("guest_message", "rnd-prototypes", m, user="Hannah Schmidt")
        self.mark("inline_image", "rnd-prototypes", m)
        rep = self.new_msg("rnd-prototypes", "2023-09-12T09:02:11.730Z", "zoe", reply_to=m)
        self.set_html(rep, f"<p>Welcome {self.at_user(rep, 'hannah')}! Badge is at reception.</p>")
        self.mark("mention_guest", "rnd-prototypes", rep, user="Hannah Schmidt")
        m = self.new_msg("rnd-labnotes", "2022-03-01T16:45:00.127Z", "zoe")
        m["subject"] = "Lab notebook template"
        self.set_html(m, "<h1>Lab notebook — template</h1>\n<p>Use this structure for every entry.</p>\n<h2>1. Objective</h2>\n"
                         "<p>What are we trying to learn?</p>\n<h3>1.1 Hypothesis</h3>\n<p>One sentence.</p>\n<hr>\n"
                         "<h2>2. Method</h2>\n<p style=\"margin-left:40px\">Samples, equipment (with calibration ids), steps.</p>\n"
                         "<h2>3. Results &amp; next steps</h2>\n<p>Raw data goes in the SharePoint folder, not in chat.</p>")
        self.mark("headings", "rnd-labnotes", m)
        for when, text in [("2022-02-14T09:12:40.551Z", "Adhesion test on NW-204 repeated; 4 of 5 passed. Notes in the notebook."),
                           ("2022-05-30T15:02:18.004Z", "Handing over the humidity study to Pat while I'm on leave."),
                           ("2022-07-28T11:30:05.640Z", "Last day tomorrow — thank you all, it was a pleasure. All my notes are in SharePoint.")]:
            m = self.new_msg("rnd-labnotes", when, "christie")
            self.set_html(m, f"<p>{html.escape(text, quote=False)}</p>")
            self.mark("disabled_user_message", "rnd-labnotes", m, user="Christie Cline")
        m = self.new_msg("rd-submissions", "2021-09-20T12:00:41.903Z", "joni")
        m["subject"] = "Submission checklist"
        pdf = pdf_bytes("Submission checklist", ["[x] Device description", "[x] Risk file RMF-07",
                                                 "[ ] Biocompatibility report", "[ ] IFU v3 (translations)"])
        att = self.attach_file("rd-submissions", m, "Submission checklist.pdf", pdf, "application/pdf")
        self.set_html(m, f"<p>Checklist for the autumn submission; please tick off your items.</p>\n{att}")
        self.mark("file_pdf", "rd-submissions", m, name="Submission checklist.pdf")
        self.mark("private_channel_message", "rd-submissions", m)
        rep = self.new_msg("rd-submissions", "2021-09-20T14:31:09.226Z", "christie", reply_to=m)
        self.set_html(rep, "<p>Biocompatibility report is with the lab, expected next week.</p>")
        self.mark("disabled_user_message", "rd-submissions", rep, user="Christie Cline")

    # ---- 営業 -----------------------------------------------------------------------------
    def featured_sales(self) -> None:
        m = self.new_msg("jp-general", "2024-04-01T00:45:12.620Z", "hanako")
        self.set_html(m, f"<p>{self.at_user(m, 'wangfang')} さん、新年度の目標について来週お時間いただけますか？"
                         "<br>\nAPACチームとの連携も相談したいです。</p>")
        self.mark("mention_non_latin", "jp-general", m, user="王芳")
        rep = self.new_msg("jp-general", "2024-04-01T02:03:44.018Z", "wangfang", reply_to=m)
        self.set_html(rep, "<p>好的！火曜日の午後はいかがでしょうか。</p>")
        m = self.new_msg("jp-forecasts", "2024-10-07T01:15:30.442Z", "kenji")
        m["subject"] = "FY25 pipeline"
        csv = ("opportunity,customer,stage,amount_jpy,close_quarter\n"
               "OPP-1042,株式会社ノースウィンド,proposal,12500000,Q3\n"
               "OPP-1057,さくら物流,negotiation,8400000,Q3\n"
               "OPP-1063,\"Fourth Coffee & Co\",qualified,3100000,Q4\n").encode()
        att = self.attach_file("jp-forecasts", m, "pipeline_forecast_FY25.csv", csv, "text/csv")
        self.set_html(m, f"<p>FY25のパイプライン予測を更新しました。</p>\n{att}")
        self.mark("file_csv", "jp-forecasts", m, name="pipeline_forecast_FY25.csv")
        m = self.new_msg("jp-customers", "2021-12-03T04:20:18.339Z", "hanako")
        self.set_text(m, "大阪精機様: 来年の更新は確定。担当者が変わるので引き継ぎ資料を作成します。<重要>")
        self.mark("text_body_non_latin", "jp-customers", m)

    # ---- Marketing (archived) ----------------------------------------------------------------
    def featured_marketing(self) -> None:
        m = self.new_msg("mkt-campaigns", "2020-03-10T17:22:05.870Z", "lynne")
        self.set_html(m, "<div>Spring Launch went great <span class=\"animated-emoticon-20-laugh\"><img itemscope=\"\" "
                         "itemtype=\"http://schema.skype.com/Emoji\" itemid=\"laugh\" "
                         "src=\"https://statics.teams.cdn.office.net/evergreen-assets/skype/v2/laugh/default/20_f.png\" "
                         "title=\"Laugh\" alt=\"😆\" style=\"width:20px;height:20px;\"></span> 1,204 sign-ups on day one</div>")
        for who, rt, sec in [("miriam", "like", 40), ("megan", "heart", 95), ("sam", "laugh", 300), ("ben", "surprised", 812)]:
            self.react(m, who, rt, None, parse_iso(m["createdDateTime"]) + sec * 1000)
        m["_fixed"] = True
        self.mark("emoji_legacy_img", "mkt-campaigns", m)
        self.mark("reactions_legacy", "mkt-campaigns", m)
        m = self.new_msg("mkt-campaigns", "2021-06-02T08:05:44.102Z", "miriam")
        self.set_html(m, "<p>The numbers are in and they're not great:</p>")
        for who, rt, sec in [("lynne", "sad", 60), ("sam", "angry", 120), ("megan", "sad", 200)]:
            self.react(m, who, rt, None, parse_iso(m["createdDateTime"]) + sec * 1000)
        m["_fixed"] = True
        self.mark("reactions_legacy", "mkt-campaigns", m)
        m = self.new_msg("mkt-brand", "2022-04-12T13:40:22.785Z", "sam")
        m["subject"] = "Brand guidelines 2022"
        pdf = pdf_bytes("Brand guidelines 2022", ["Logo: clear space = height of the N", "Primary colour: #464EB8",
                                                  "Typeface: Segoe UI / Inter", "Never write NorthWind"])
        att = self.attach_file("mkt-brand", m, "Brand guidelines 2022.pdf", pdf, "application/pdf")
        self.set_html(m, f"<p>Final brand guidelines, approved by Miriam.</p>\n{att}")
        self.mark("file_pdf", "mkt-brand", m, name="Brand guidelines 2022.pdf")
        self.mark("archived_team_message", "mkt-brand", m)
        m = self.new_msg("mkt-general", "2021-10-19T09:14:27.650Z", "miriam")
        self.set_html(m, "<p>From the customer survey:</p>\n<blockquote>\n<p>The onboarding emails were the first "
                         "ones I actually read.</p>\n<p>Please keep them short!</p>\n</blockquote>\n<p>Let's keep that in mind for Q1.</p>")
        self.mark("blockquote", "mkt-general", m)
        m = self.new_msg("mkt-general", "2022-11-02T10:50:03.337Z", "lynne")
        self.set_html(m, "<p>Q&amp;A for the webinar: &lt;draft&gt; questions are in the doc, &quot;final&quot; ones "
                         "go on the slide. 50&nbsp;% of sign-ups came from LinkedIn — &copy; 2022 Northwind Labs &mdash; "
                         "don&#39;t forget the &#x2122; on product names.</p>")
        self.mark("entities", "mkt-general", m)
        m = self.new_msg("mkt-general", "2023-03-30T16:00:00.000Z", "miriam")
        m["importance"] = "high"
        self.set_html(m, "<p>This team will be archived tomorrow as part of the re-org. Marketing moves to "
                         "Customer Success. Thank you all! ❤️</p>")
        self.mark("archived_team_last_message", "mkt-general", m)

    # ---- Customer Success ---------------------------------------------------------------------
    def featured_customer_success(self) -> None:
        r = self.rng
        # two people called Alex Kim in one thread
        m = self.new_msg("cs-general", "2024-02-06T10:30:12.019Z", "alexk1")
        self.set_html(m, "<p>Who is handling the Woodgrove Bank SSO question? I've got the engineering side.</p>")
        rep = self.new_msg("cs-general", "2024-02-06T10:41:55.730Z", "alexk2", reply_to=m)
        self.set_html(rep, "<p>That's me (the other Alex Kim 😄). I'll loop you into the call on Thursday.</p>")
        rep2 = self.new_msg("cs-general", "2024-02-06T10:44:03.501Z", "alexk1", reply_to=m)
        self.set_html(rep2, f"<p>Perfect, thanks {self.at_user(rep2, 'alexk2')}!</p>")
        self.mark("same_display_name_thread", "cs-general", m)
        self.system("cs-general", "2024-02-06T11:02:40.318Z", {
            "@odata.type": "#microsoft.graph.messagePinnedEventMessageDetail",
            "eventDateTime": "2024-02-06T11:02:40.318Z",
            "initiator": self.user_set("diego", with_name=False)}, reply_to=m)
        self.mark("system_event_reply", "cs-general", self.channels["cs-general"]["messages"][-1])
        m = self.new_msg("cs-general", "2022-04-19T15:12:08.660Z", "luis")
        self.set_html(m, "<p>Hola! Luis from Contoso here. We'll be helping with the LATAM support overflow "
                         "starting next month.</p>")
        self.mark("guest_message", "cs-general", m, user="Luis Ortega (Contoso)")
        rep = self.new_msg("cs-general", "2024-06-21T08:02:19.514Z", "diego", reply_to=m)
        att = self.attach_file("cs-general", rep, "Q3 Roadmap.pdf", b"", "application/pdf", url=self.roadmap_url)
        self.set_html(rep, f"<p>Sharing the engineering roadmap here too, since customers keep asking.</p>\n{att}")
        self.mark("file_referenced_twice", "cs-general", rep, name="Q3 Roadmap.pdf")

        # Escalations: the very long post-mortem, quote, forward, missing file, deletions
        pm = self.new_msg("cs-escalations", "2025-03-21T14:00:07.205Z", "siobhan")
        pm["subject"] = "Post-mortem: checkout 502s on 18 March"
        pm["importance"] = "high"
        pm_html = self.postmortem_html()
        self.set_html(pm, pm_html)
        self.mark("very_long_message", "cs-escalations", pm, htmlChars=len(pm_html),
                  textChars=len(strip_tags(pm_html)))
        q = self.new_msg("cs-escalations", "2025-03-21T15:27:40.881Z", "diego", reply_to=pm)
        preview = strip_tags(pm_html)[:120]
        q["attachments"].append({"id": pm["id"], "contentType": "messageReference", "contentUrl": None,
                                 "content": json.dumps({"messageId": pm["id"], "messagePreview": preview,
                                                        "messageSender": self.user_set("siobhan")},
                                                       ensure_ascii=False),
                                 "name": None, "thumbnailUrl": None, "teamsAppId": None})
        self.set_html(q, f'<attachment id="{pm["id"]}"></attachment>\n<p>Great write-up. Can we add the '
                         "customer credits to the action items?</p>")
        self.mark("quoted_reply", "cs-escalations", q)
        rep = self.new_msg("cs-escalations", "2025-03-21T15:40:02.117Z", "siobhan", reply_to=pm)
        self.set_html(rep, "<p>Added as item 7.</p>")
        inc = self.incident_root
        fw = self.new_msg("cs-escalations", "2025-03-19T08:30:55.049Z", "jose")
        fw_id = inc["id"]
        fw["attachments"].append({"id": fw_id, "contentType": "forwardedMessageReference", "contentUrl": None,
                                  "content": json.dumps({
                                      "originalMessageId": inc["id"],
                                      "originalMessageContent": inc["body"]["content"],
                                      "originalConversationId": inc["channelIdentity"]["channelId"],
                                      "originalSentDateTime": inc["createdDateTime"],
                                      "originalMessageSender": self.user_set("jose", with_name=False)},
                                      ensure_ascii=False),
                                  "name": None, "thumbnailUrl": None, "teamsAppId": None})
        self.set_html(fw, f"<p>FYI for the customer comms — the original incident thread:</p>\n<attachment id=\"{fw_id}\"></attachment>")
        self.mark("forwarded_message", "cs-escalations", fw)
        m = self.new_msg("cs-escalations", "2021-11-04T11:18:30.774Z", "ngozi")
        att = self.attach_file("cs-escalations", m, "Old budget draft (v3).xlsx", None,
                               "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        self.set_html(m, f"<p>Budget draft for the Litware escalation credits:</p>\n{att}")
        self.mark("file_missing", "cs-escalations", m, name="Old budget draft (v3).xlsx",
                  contentUrl=m["attachments"][0]["contentUrl"])
        # a second urgent post
        m = self.new_msg("cs-escalations", "2022-11-08T07:02:33.140Z", "siobhan")
        m["subject"] = "P1: Woodgrove Bank cannot sign in (SSO)"
        m["importance"] = "urgent"
        self.set_html(m, "<p><strong>P1</strong> — Woodgrove Bank's users get an SSO loop since 06:40 UTC. "
                         "Ticket CS-7731. Engineering is on the bridge.</p>")
        self.mark("importance_urgent", "cs-escalations", m)
        for i, (who, text) in enumerate([("ngozi", "Customer confirms it started after their IdP certificate rollover."),
                                         ("siobhan", "Resolved: they uploaded the new certificate. Closing.")]):
            rep = self.new_msg("cs-escalations", parse_iso("2022-11-08T07:20:00.000Z") + i * 52 * MINUTE + 811,
                               who, reply_to=m)
            self.set_html(rep, f"<p>{html.escape(text, quote=False)}</p>")
        # deleted root WITH replies
        d = self.new_msg("cs-escalations", "2023-05-09T09:02:15.480Z", "rafael")
        d["subject"] = ""
        d["deletedDateTime"] = "2023-05-09T11:47:03.915Z"
        self.mark("deleted_root_with_replies", "cs-escalations", d)
        for i, (who, text) in enumerate([("ngozi", "Wait, is that the customer's real API key?"),
                                         ("diego", "Rafael please delete this and rotate the key with them."),
                                         ("rafael", "Deleted, key rotated. Sorry!")]):
            rep = self.new_msg("cs-escalations", parse_iso("2023-05-09T09:10:00.000Z") + i * 41 * MINUTE + 3_017,
                               who, reply_to=d)
            self.set_html(rep, f"<p>{html.escape(text, quote=False)}</p>")
        # deleted root without replies
        d = self.new_msg("cs-escalations", "2023-08-14T16:20:51.002Z", "ngozi")
        d["deletedDateTime"] = "2023-08-14T16:22:07.310Z"
        self.mark("deleted_root_without_replies", "cs-escalations", d)
        # deleted reply (normal) and the reference §10 gotcha: empty body, deletedDateTime null, from null
        host = self.new_msg("cs-escalations", "2024-01-22T13:05:42.660Z", "siobhan")
        self.set_html(host, "<p>Fabrikam escalation CS-8812: root cause confirmed, fix ships Thursday.</p>")
        rep = self.new_msg("cs-escalations", "2024-01-22T13:11:04.981Z", "rafael", reply_to=host)
        rep["deletedDateTime"] = "2024-01-22T13:12:30.442Z"
        self.mark("deleted_reply", "cs-escalations", rep)
        rep = self.new_msg("cs-escalations", "2024-01-22T13:15:37.270Z", "ngozi", reply_to=host)
        rep["from"] = None
        rep["_modified"] = "2024-01-22T13:16:02.881Z"
        self.mark("deleted_without_deletedDateTime", "cs-escalations", rep)
        rep = self.new_msg("cs-escalations", "2024-01-22T13:20:18.006Z", "diego", reply_to=host)
        self.set_html(rep, "<p>Thanks — I'll tell the customer.</p>")

        # Partner Bridge (shared): guest, guest mention, unmatched mention, custom reaction
        k = self.new_msg("cs-partner", "2023-01-12T09:40:22.318Z", "kari")
        k["subject"] = "Webhook retries"
        self.set_html(k, "<p>Hi from Fabrikam! Our webhook receiver returns 429 during batch windows — "
                         "does your side honour <code>Retry-After</code>?</p>")
        self.mark("guest_message", "cs-partner", k, user="Kari Nordmann")
        emoji_url, _ = self.add_hosted("cs-partner", k, "emoji")
        self.react(k, "diego", "custom", "fabrikam-logo", parse_iso(k["createdDateTime"]) + 95_000, url=emoji_url)
        self.react(k, "ngozi", "👍", "Thumbs up", parse_iso(k["createdDateTime"]) + 300_000)
        self.react(k, "kari", "💯", "Hundred points", parse_iso(k["createdDateTime"]) + 600_000)
        k["_fixed"] = True
        self.mark("reaction_custom", "cs-partner", k)
        m = self.new_msg("cs-partner", "2023-06-06T12:02:48.590Z", "diego", reply_to=k)
        self.set_html(m, f"<p>{self.at_user(m, 'kari')} and {self.at_user(m, 'victor', per_word=True)} — can you two "
                         "sync on the retry semantics this week?</p>")
        self.mark("mention_guest", "cs-partner", m, user="Kari Nordmann")
        self.mark("mention_unmatched_user", "cs-partner", m, user="Victor Ng")
        m = self.new_msg("cs-partner", "2024-04-03T10:10:10.501Z", "siobhan")
        pdf = pdf_bytes("Presentation client Q2", ["Fabrikam x Northwind Labs", "Q2 review: 99.97% uptime",
                                                   "Next: joint roadmap for webhooks v2"])
        att = self.attach_file("cs-partner", m, "Présentation client Q2.pdf", pdf, "application/pdf")
        self.set_html(m, f"<p>Slides for tomorrow's partner review (the French version, as requested).</p>\n{att}")
        self.mark("file_pdf", "cs-partner", m, name="Présentation client Q2.pdf")
        m = self.new_msg("cs-partner", "2024-08-27T07:55:33.093Z", "kari")
        self.set_html(m, "<p>Our current integration, for reference:</p>\n<p>"
                         + self.img("cs-partner", m, "diagram", 600, 360) + "</p>")
        self.mark("inline_image", "cs-partner", m)

        # Québec Renewals: French, CSV, Unicode reactions
        m = self.new_msg("cs-quebec", "2024-01-15T14:30:00.881Z", "emilie")
        csv = ("client,échéance,montant_cad,statut\n"
               "Coho Winery,2024-03-31,48000,à renouveler\n"
               "Alpine Ski House,2024-05-15,112500,négociation\n"
               "\"Margie's Travel\",2024-06-30,23900,signé\n").encode()
        att = self.attach_file("cs-quebec", m, "renouvellements_2024.csv", csv, "text/csv")
        self.set_html(m, f"<p>Liste des renouvellements 2024 — mise à jour.</p>\n{att}")
        for who, emo, name, sec in [("diego", "🎉", "Party popper", 100), ("siobhan", "👍", "Thumbs up", 200),
                                    ("alexk2", "💯", "Hundred points", 333)]:
            self.react(m, who, emo, name, parse_iso(m["createdDateTime"]) + sec * 1000)
        m["_fixed"] = True
        self.mark("file_csv", "cs-quebec", m, name="renouvellements_2024.csv")
        self.mark("reactions_unicode", "cs-quebec", m)
        _ = r  # keep the signature uniform with the other featured_* methods

    def postmortem_html(self) -> str:
        parts = ["<h1>Post-mortem: checkout 502s on 18 March 2025</h1>",
                 "<p><strong>Severity:</strong> SEV1 &nbsp;|&nbsp; <strong>Duration:</strong> 8 h 50 min "
                 "&nbsp;|&nbsp; <strong>Customers affected:</strong> ~31% of checkout requests</p>",
                 "<h2>Summary</h2>"]
        summary = ("On 18 March between 08:05 and 17:02 UTC, a share of checkout requests failed with HTTP 502. "
                   "The recommendations widget released the previous evening issued an unbounded query against "
                   "orders-db for every product page view. The query held connections for several seconds, the "
                   "pool filled up, and checkout-api could no longer obtain connections within its 2-second budget. "
                   "Rolling back checkout-api did not help because the widget lives in a different service; "
                   "disabling it behind its feature flag resolved the incident. ")
        parts.append(f"<p>{html.escape(summary * 3, quote=False)}</p>")
        parts.append("<h2>Timeline (UTC)</h2>\n<ul>")
        t = parse_iso("2025-03-18T08:05:00.000Z")
        events = ["first 502s in the edge-proxy logs", "alert fires for checkout-api error rate > 5%",
                  "incident declared, José Núñez is incident commander", "status page updated (investigating)",
                  "rollback of checkout-api to v2.14.3 started", "rollback finished, no improvement",
                  "orders-db CPU at 98%, connection pool exhausted", "max_connections raised to 400 as a stopgap",
                  "slow query traced to the recommendations widget", "feature flag for the widget turned off",
                  "error rate below 2%", "CDN cache purged for ap-southeast", "one hour without errors",
                  "incident resolved, status page updated (resolved)"]
        for i, e in enumerate(events):
            parts.append(f"<li>{iso(t + i * 38 * MINUTE)[11:16]} — {html.escape(e, quote=False)}</li>")
        parts.append("</ul>")
        parts.append("<h2>What went well</h2>")
        good = ("Support had a customer macro ready within 40 minutes, and the status page was updated every 30 "
                "minutes as our process asks. The incident channel stayed focused on status while the database "
                "discussion moved to Backend. Several engineers from other teams joined without being paged. ")
        parts.append(f"<p>{html.escape(good * 4, quote=False)}</p>")
        parts.append("<h2>What went wrong</h2>")
        bad = ("The recommendations widget was released without a load test, and its query had no LIMIT and no "
               "statement timeout. Our dashboards showed connection pool saturation, but no alert was attached "
               "to it, so we spent the first hour looking at checkout-api itself. The rollback cost 35 minutes "
               "because the previous image had been garbage-collected from the registry. ")
        parts.append(f"<p>{html.escape(bad * 4, quote=False)}</p>")
        parts.append("<h2>Detection</h2>")
        detect = ("The first signal was the checkout-api error-rate alert, seven minutes after the first 502s. "
                  "Pool saturation was visible on the orders-db dashboard from 07:58 but had no alert. ")
        parts.append(f"<p>{html.escape(detect * 3, quote=False)}</p>")
        parts.append("<h2>Root cause</h2>")
        root = ("SELECT * FROM order_items WHERE product_id = ANY($1) ORDER BY created_at DESC — executed per page "
                "view with up to 4,000 product ids; the planner chose a sequential scan above ~1,500 ids. Each "
                "execution took 3–9 seconds and held one of the 200 pooled connections for its whole duration. ")
        parts.append(f"<p>{html.escape(root * 4, quote=False)}</p>")
        parts.append("<h2>Action items</h2>\n<ol>")
        actions = ["Add a statement timeout (2 s) to every service role on orders-db — owner: Björn",
                   "Alert on pool saturation above 80% for 5 minutes — owner: Omar",
                   "Load test required in the release checklist for new read paths — owner: Henrietta",
                   "Keep the last 10 images of every service in the registry — owner: Nestor",
                   "Feature flags for every new widget, default off in prod — owner: Lee",
                   "Customer comms template for SEV1 incidents — owner: Siobhán",
                   "Service credits for affected enterprise customers — owner: Diego"]
        for a in actions:
            parts.append(f"<li>{html.escape(a, quote=False)}</li>")
        parts.append("</ol>")
        parts.append("<h2>Customer impact by region</h2>\n<table itemprop=\"copy-paste-table\">\n<tbody>\n"
                     "<tr><td><p><strong>Region</strong></p></td><td><p><strong>Failed requests</strong></p></td>"
                     "<td><p><strong>Peak error rate</strong></p></td></tr>\n"
                     "<tr><td><p>eu-west</p></td><td><p>182,400</p></td><td><p>34%</p></td></tr>\n"
                     "<tr><td><p>us-east</p></td><td><p>241,950</p></td><td><p>29%</p></td></tr>\n"
                     "<tr><td><p>ap-southeast</p></td><td><p>61,300</p></td><td><p>41%</p></td></tr>\n"
                     "</tbody>\n</table>")
        parts.append("<h2>Appendix: lessons learned</h2>")
        lessons = ("Every new read path needs a budget: a timeout, a limit, and a load test at twice the expected "
                   "traffic. Alerts must exist for the resources we already graph. Rollbacks must be rehearsed. "
                   "And when the obvious fix does not work within fifteen minutes, widen the search. ")
        parts.append(f"<p>{html.escape(lessons * 5, quote=False)}</p>")
        return "\n".join(parts)

    # ---- Slack ----------------------------------------------------------------------------
    def slack_user(self, uid: str, handle: str, real: str, email: str | None, tz: str, *, title: str = "",
                   given: str = "", surname: str = "", deleted: bool = False, admin: bool = False,
                   owner: bool = False, primary: bool = False, restricted: bool = False,
                   ultra: bool = False) -> Json:
        label, offset = TZ_INFO[tz]
        avatar = hashlib.sha256(f"{self.seed}:{uid}".encode()).hexdigest()[:12]
        if self.rng.random() < 0.6:
            base = f"https://avatars.slack-edge.com/2024-01-15/{self.rng.randint(10**11, 10**12 - 1)}_{avatar}"
            images = {f"image_{s}": f"{base}_{s}.png" for s in (24, 32, 48, 72, 192, 512)}
        else:
            images = {f"image_{s}": (f"https://secure.gravatar.com/avatar/{avatar}.jpg?s={s}&d=https%3A%2F%2Fa.slack-edge.com"
                                     f"%2Fdf10d%2Fimg%2Favatars%2Fava_00{self.rng.randint(10, 25)}-{s}.png")
                      for s in (24, 32, 48, 72, 192, 512)}
        folded = "".join(c for c in unicodedata.normalize("NFKD", real) if not unicodedata.combining(c))
        profile: Json = {
            "title": title, "phone": "", "skype": "", "real_name": real, "real_name_normalized": folded,
            "display_name": handle if self.rng.random() < 0.4 else "",
            "display_name_normalized": "", "fields": None, "status_text": "", "status_emoji": "",
            "status_expiration": 0, "avatar_hash": avatar, "email": email, "first_name": given,
            "last_name": surname, **images, "status_text_canonical": "", "team": SLACK_TEAM_ID,
        }
        profile["display_name_normalized"] = profile["display_name"]
        return {
            "id": uid, "team_id": SLACK_TEAM_ID, "name": handle, "deleted": deleted,
            "color": f"{self.rng.getrandbits(24):06x}", "real_name": real, "tz": tz, "tz_label": label,
            "tz_offset": offset, "profile": profile, "is_admin": admin, "is_owner": owner,
            "is_primary_owner": primary, "is_restricted": restricted, "is_ultra_restricted": ultra,
            "is_bot": False, "is_app_user": False, "updated": 1700000000 + self.rng.randint(0, 60_000_000),
            "is_email_confirmed": email is not None,
        }

    def build_slack(self) -> None:
        people = {p[0]: p for p in PEOPLE}
        bot_uid, bot_id, app_id = self.slack_id("U"), self.slack_id("B"), self.slack_id("A")
        users: list[Json] = [{
            "id": "USLACKBOT", "team_id": SLACK_TEAM_ID, "name": "slackbot", "deleted": False, "color": "757575",
            "real_name": "Slackbot", "tz": "America/Los_Angeles", "tz_label": "Pacific Daylight Time",
            "tz_offset": -25200,
            "profile": {"title": "", "phone": "", "skype": "", "real_name": "Slackbot",
                        "real_name_normalized": "Slackbot", "display_name": "Slackbot",
                        "display_name_normalized": "Slackbot", "fields": None, "status_text": "",
                        "status_emoji": "", "status_expiration": 0, "avatar_hash": "sv41d8cd98f0",
                        "always_active": True, "first_name": "slackbot", "last_name": "",
                        "image_24": "https://a.slack-edge.com/80588/img/slackbot_24.png",
                        "image_72": "https://a.slack-edge.com/80588/img/slackbot_72.png",
                        "image_192": "https://a.slack-edge.com/80588/marketing/img/avatars/slackbot/avatar-slackbot.png",
                        "status_text_canonical": "", "team": SLACK_TEAM_ID},
            "is_admin": False, "is_owner": False, "is_primary_owner": False, "is_restricted": False,
            "is_ultra_restricted": False, "is_bot": False, "is_app_user": False, "updated": 0,
            "is_email_confirmed": False,
        }]
        bot = self.slack_user(bot_uid, "teams-migrator", "Teams Migrator", None, "America/Los_Angeles")
        bot["is_bot"] = True
        bot["profile"].update(bot_id=bot_id, api_app_id=app_id, always_active=True, email=None, display_name="")
        bot["profile"]["display_name_normalized"] = ""
        del bot["profile"]["email"]
        users.append(bot)
        self.slack_ids["bot"] = bot_uid
        for key, display, given, surname, _local, job, _office, tz in PEOPLE:
            if MATCH_ROUTE.get(key) == "none":
                continue
            u = self.users[key]
            email = {"pat": u["userPrincipalName"], "lena": "lena.fischer@adatum.com",
                     "omar": f"ohaddad@{DOMAIN}"}.get(key) or u["mail"]
            if key in SLACK_EMAIL_CASE:
                email = SLACK_EMAIL_CASE[key]
            elif key == "diego":
                email = email.lower()
            handle = (email.split("@")[0] if key not in GUESTS else email.split("@")[0]).lower()
            uid = self.slack_id("U")
            self.slack_ids[key] = uid
            users.append(self.slack_user(
                uid, handle, SLACK_REAL_NAME.get(key, display), email, tz, title=job or "",
                given=given, surname=surname, deleted=key in SLACK_DELETED, admin=key in SLACK_ADMINS,
                owner=key == "patti", restricted=key in GUESTS, ultra=key == "hannah"))
        # the second Slack account of the ambiguous user, and Slack-only people
        self.slack_ids["sam-old"] = uid = self.slack_id("U")
        users.append(self.slack_user(uid, "samt", "Sam T", "Sam@Adatum.com", "America/Los_Angeles",
                                     title="Designer (Adatum)", given="Sam", surname="T"))
        self.slack_ids["jordan"] = uid = self.slack_id("U")
        users.append(self.slack_user(uid, "jordan.blake", "Jordan Blake", f"jordan.blake@{DOMAIN}",
                                     "America/Los_Angeles", title="Workspace owner", given="Jordan",
                                     surname="Blake", admin=True, owner=True, primary=True))
        self.slack_ids["morgan"] = uid = self.slack_id("U")
        users.append(self.slack_user(uid, "morgan.reyes", "Morgan Reyes", f"morgan.reyes@{DOMAIN}",
                                     "America/Toronto", title="Office Manager", given="Morgan", surname="Reyes"))
        _ = people
        active = [u["id"] for u in users if not u["deleted"] and not u["is_bot"] and u["id"] != "USLACKBOT"
                  and not u["is_restricted"]]
        channels = []
        for name, created, archived, purpose, bot_member in SLACK_EXISTING:
            cid = self.slack_id("C")
            if name == "general":
                members = list(active)
            elif name == "random":
                members = [x for i, x in enumerate(active) if i % 3 != 1]
            elif name == "it-helpdesk":
                members = [self.slack_ids[k] for k in ("irvin", "jordan", "kari", "hannah", "omar", "megan")]
            elif name == "engineering-general":
                members = [self.slack_ids[k] for k in ("adele", "alexw", "alexk1", "leegu", "nestor", "omar")]
            else:
                members = [self.slack_ids[k] for k in ("miriam", "lynne", "megan", "sam")]
            if bot_member:
                members.append(bot_uid)
            created_s = parse_iso(created) // 1000
            creator = self.slack_ids["jordan"]
            channels.append({
                "id": cid, "name": name, "is_channel": True, "is_group": False, "is_im": False,
                "is_mpim": False, "is_private": False, "created": created_s, "is_archived": archived,
                "is_general": name == "general", "unlinked": 0, "name_normalized": name, "is_shared": False,
                "is_org_shared": False, "is_ext_shared": False, "is_pending_ext_shared": False,
                "pending_shared": [], "context_team_id": SLACK_TEAM_ID, "parent_conversation": None,
                "creator": creator, "is_member": bot_member,
                "topic": {"value": "", "creator": "", "last_set": 0},
                "purpose": {"value": purpose, "creator": creator, "last_set": created_s},
                "previous_names": [], "num_members": len(members), "members": members,
            })
        self.slack = {"team": {"id": SLACK_TEAM_ID, "name": COMPANY, "domain": "northwindlabs"},
                      "bot": {"user_id": bot_uid, "bot_id": bot_id, "app_id": app_id},
                      "users": users, "channels": channels}

    # ---- chats (1:1, group, meeting) ------------------------------------------------------
    def build_chats(self) -> None:
        """All chats, from their own random.Random so nothing generated before them changes."""
        main_rng, self.rng = self.rng, random.Random(f"{self.seed}-chats")
        try:
            for spec in CHATS:
                self.new_chat(spec)
            self.featured_chats()
            for short in self.chats:
                self.chat_filler(short)
            self.chat_decorate()
            self.chat_finalize()
        finally:
            self.rng = main_rng

    def chat_member(self, chat_id: str, key: str, roles: list[str]) -> Json:
        u = self.users[key]
        opaque = base64.b64encode(f"0##0##{self.tenant_id}##{chat_id}##{u['id']}".encode()).decode()
        return {
            "@odata.type": "#microsoft.graph.aadUserConversationMember",
            "id": opaque,
            "roles": roles,
            "displayName": u["displayName"],
            "visibleHistoryStartDateTime": "0001-01-01T00:00:00Z",
            "userId": u["id"],
            "email": u["mail"],
            "tenantId": self.tenant_id,
        }

    def new_chat(self, spec: ChatSpec) -> None:
        created = parse_iso(spec.created)
        if spec.chat_type == "oneOnOne":
            assert len(spec.members) == 2 and spec.topic is None and not (spec.added or spec.removed)
            chat_id = "19:" + "_".join(sorted(self.users[k]["id"] for k in spec.members)) + "@unq.gbl.spaces"
        elif spec.chat_type == "meeting":
            while True:  # a GUID's base64, as Teams writes it; kept free of "/" and "+" (URL paths)
                enc = base64.b64encode(self.guid().encode()).decode().rstrip("=")
                if "/" not in enc and "+" not in enc:
                    break
            chat_id = f"19:meeting_{enc}@thread.v2"
        else:
            chat_id = f"19:{self.hex32()}@thread.v2"
        online = None
        if spec.chat_type == "meeting":
            organizer = self.users[spec.members[0]]["id"]
            context = json.dumps({"Tid": self.tenant_id, "Oid": organizer}, separators=(",", ":"))
            online = {
                "calendarEventId": "AAMkA" + base64.urlsafe_b64encode(self.rng.randbytes(105)).decode().rstrip("="),
                "joinWebUrl": (f"https://teams.microsoft.com/l/meetup-join/{quote(chat_id, safe='')}/{created}"
                               f"?context={quote(context, safe='')}"),
                "organizer": self.identity(spec.members[0], with_name=False),
            }
        changes = [created] + [parse_iso(w) for w, _, _ in spec.added + spec.removed]
        if spec.renamed:
            changes.append(parse_iso(spec.renamed[0]))
        chat = {
            "id": chat_id,
            "topic": spec.topic,
            "createdDateTime": spec.created,
            "lastUpdatedDateTime": iso(max(changes)),
            "chatType": spec.chat_type,
            "webUrl": f"https://teams.microsoft.com/l/chat/{quote(chat_id, safe='')}/0?tenantId={self.tenant_id}",
            "tenantId": self.tenant_id,
            "onlineMeetingInfo": online,
            "isHiddenForAllMembers": False,
        }
        left = {k for _, keys, _ in spec.removed for k in keys}
        current = [k for k in spec.members + [k for _, keys, _ in spec.added for k in keys] if k not in left]

        def roles(k: str) -> list[str]:
            if k in GUESTS:
                return []
            if spec.chat_type == "meeting":
                return ["owner"] if k == spec.members[0] else []
            return ["owner"]

        self.chats[spec.short] = {"spec": spec, "json": chat, "messages": [],
                                  "members": [self.chat_member(chat_id, k, roles(k)) for k in current]}

    def chat_members_at(self, short: str, when: int) -> list[str]:
        spec: ChatSpec = self.chats[short]["spec"]
        out = list(spec.members)
        events = sorted([(parse_iso(w), "add", keys) for w, keys, _ in spec.added]
                        + [(parse_iso(w), "remove", keys) for w, keys, _ in spec.removed])
        for t, kind, keys in events:
            if t >= when:
                break
            out = out + keys if kind == "add" else [k for k in out if k not in keys]
        return out

    def chat_posters(self, short: str, when: int) -> list[str]:
        out = []
        for k in self.chat_members_at(short, when):
            if k in NEVER_POSTS or (k == "christie" and when >= parse_iso(CHRISTIE_LEFT)):
                continue
            if k in JOINED and when < parse_iso(JOINED[k]):
                continue
            out.append(k)
        return out

    def new_chat_msg(self, short: str, when: int | str, author: str | None = None, *, system: bool = False) -> Json:
        if isinstance(when, str):
            when = parse_iso(when)
        chat = self.chats[short]
        assert parse_iso(chat["json"]["createdDateTime"]) < when < parse_iso(chat["spec"].end), (short, iso(when))
        if not system:
            assert author in self.chat_posters(short, when), (short, author, iso(when))
        mid = self.alloc(when)
        msg = {
            "id": str(mid),
            "replyToId": None,
            "etag": str(mid),
            "messageType": "systemEventMessage" if system else "message",
            "createdDateTime": iso(mid),
            "lastModifiedDateTime": iso(mid),
            "lastEditedDateTime": None,
            "deletedDateTime": None,
            "subject": None,
            "summary": None,
            "chatId": chat["json"]["id"],
            "importance": "normal",
            "locale": "en-us",
            "webUrl": None,
            "policyViolation": None,
            "eventDetail": None,
            "from": None if system else self.user_set(author),
            "body": {"contentType": "html", "content": "<systemEventMessage/>" if system else ""},
            "channelIdentity": None,
            "attachments": [],
            "mentions": [],
            "reactions": [],
            "messageHistory": [],
        }
        chat["messages"].append(msg)
        return msg

    def chat_mark(self, case: str, short: str, msg: Json, **extra: Any) -> Json:
        chat = self.chats[short]
        info = {"chat": short, "chatId": chat["json"]["id"], "chatType": chat["json"]["chatType"],
                "messageId": msg["id"], **extra}
        self.chat_cast.setdefault(case, []).append(info)
        return msg

    def chat_system(self, short: str, when: int | str, detail: Json) -> Json:
        msg = self.new_chat_msg(short, when, system=True)
        msg["eventDetail"] = detail
        self.chat_mark("system_event", short, msg, eventType=detail["@odata.type"].split(".")[-1])
        return msg

    def chat_img(self, short: str, msg: Json, image: str, width: int, height: int) -> str:
        item, hc_id = self.hosted_id()
        n = sum(1 for h in self.chat_hosted if h["messageId"] == msg["id"])
        path = f"hosted/{msg['id']}-{n + 1}.png"
        self.files[path] = self.images[image]
        chat_id = self.chats[short]["json"]["id"]
        self.chat_hosted.append({"messageId": msg["id"], "id": hc_id, "contentType": "image/png", "file": path,
                                 "chatId": chat_id})
        url = f"{GRAPH}/chats/{chat_id}/messages/{msg['id']}/hostedContents/{hc_id}/$value"
        return (f'<img src="{url}" width="{width}" height="{height}" alt="image" '
                f'itemid="{item}" style="max-width:1440px">')

    def onedrive_url(self, key: str, name: str) -> str:
        """Chat files live in the sender's OneDrive (reference/graph.md §4.4)."""
        folder = re.sub(r"[^a-z0-9]", "_", self.users[key]["userPrincipalName"].lower())
        return (f"https://northwindlabs-my.sharepoint.com/personal/{folder}/Documents/"
                f"Microsoft%20Teams%20Chat%20Files/{quote(name, safe='')}")

    def chat_attach(self, msg: Json, sender: str, name: str, data: bytes | None, mime: str) -> str:
        """A reference attachment to a file in the sender's OneDrive; data None = the file is gone."""
        att_id = self.guid()
        url = self.onedrive_url(sender, name)
        if data is None:
            self.chat_missing_urls.append(url)
        elif url not in self.chat_drive_by_url:
            if sender not in self.onedrive_ids:
                self.onedrive_ids[sender] = "b!" + base64.urlsafe_b64encode(self.rng.randbytes(48)).decode().rstrip("=")
            item_id = "01" + "".join(self.rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(32))
            path = f"drive/{item_id}{Path(name).suffix.lower()}"
            self.files[path] = data
            entry = {"driveId": self.onedrive_ids[sender], "id": item_id, "name": name, "webUrl": url,
                     "mimeType": mime, "file": path}
            self.chat_drive.append(entry)
            self.chat_drive_by_url[url] = entry
        msg["attachments"].append({"id": att_id, "contentType": "reference", "contentUrl": url,
                                   "content": None, "name": name, "thumbnailUrl": None, "teamsAppId": None})
        return f'<attachment id="{att_id}"></attachment>'

    def chat_says(self, short: str, when: int | str, author: str, content: str, *, text: bool = False) -> Json:
        m = self.new_chat_msg(short, when, author)
        if text:
            self.set_text(m, content)
        else:
            self.set_html(m, content)
        return m

    def chat_react(self, msg: Json, reactions: list[tuple[str, str, str | None, int]]) -> None:
        created = parse_iso(msg["createdDateTime"])
        for who, rtype, name, sec in reactions:
            self.react(msg, who, rtype, name, created + sec * 1000)
        msg["_fixed"] = True

    def featured_chats(self) -> None:
        p = lambda s: f"<p>{html.escape(s, quote=False)}</p>"  # noqa: E731

        # 1:1, two engineering leads
        s = "dm-adele-alexw"
        m = self.chat_says(s, "2023-05-15T16:02:44.301Z", "adele", p("Here's the draft of the new engineering levels, "
                           "would love your comments before I send it to everyone."))
        pdf = pdf_bytes("Engineering levels 2023", ["L1-L3: individual contributor track", "L4: staff",
                                                   "L5: principal", "Managers: M1-M3, separate track"])
        m["body"]["content"] += "\n" + self.chat_attach(m, "adele", "Engineering levels 2023.pdf", pdf, "application/pdf")
        self.chat_react(m, [("alexw", "👍", "Thumbs up", 240)])
        self.chat_mark("file_pdf", s, m, name="Engineering levels 2023.pdf")
        m = self.chat_says(s, "2023-05-15T16:40:09.118Z", "alexw", p("Read it. L4 reads more like L5 to me — "
                           "comments in the doc. Sorry, I meant L3 reads like L4."))
        m["lastEditedDateTime"] = "2023-05-15T16:41:30.552Z"
        self.chat_mark("edited", s, m)
        m = self.new_chat_msg(s, "2024-11-04T09:12:27.640Z", "alexw")
        self.set_html(m, "<p>On-call pages per week since the alerting cleanup:</p>\n<p>"
                      + self.chat_img(s, m, "chart", 640, 400) + "</p>")
        self.chat_mark("inline_image", s, m)
        d = self.new_chat_msg(s, "2025-02-20T18:30:55.017Z", "adele")
        d["deletedDateTime"] = "2025-02-20T18:31:40.249Z"
        self.chat_mark("deleted", s, d)
        self.chat_says(s, "2025-02-20T18:32:12.880Z", "adele", p("Oops, wrong chat. Ignore that!"))

        # 1:1 with a guest
        s = "dm-megan-kari"
        m = self.chat_says(s, "2022-10-03T13:22:10.704Z", "kari", p("Hi Megan! Kari from Fabrikam. Diego said you're "
                           "the person for the integration timeline?"))
        self.chat_react(m, [("megan", "👋", "Waving hand", 60)])
        self.chat_mark("guest_message", s, m, user="Kari Nordmann")
        m = self.chat_says(s, "2022-10-03T13:30:48.215Z", "megan", "<p>Hi Kari, yes! {} runs the partner "
                           "side, I'll keep him in the loop.</p>")
        m["body"]["content"] = m["body"]["content"].replace("{}", self.at_user(m, "diego"))
        self.chat_mark("mention", s, m, user="Diego Siciliani")
        m = self.chat_says(s, "2023-02-07T10:05:31.909Z", "megan", p("Spec for webhooks v2, as promised:"))
        pdf = pdf_bytes("Webhooks v2 spec", ["Signed payloads (HMAC-SHA256)", "Retries honour Retry-After",
                                            "At-least-once delivery, idempotency keys"])
        m["body"]["content"] += "\n" + self.chat_attach(m, "megan", "Webhooks v2 spec.pdf", pdf, "application/pdf")
        self.chat_react(m, [("kari", "🎉", "Party popper", 900), ("kari", "👍", "Thumbs up", 905)])
        self.chat_mark("file_pdf", s, m, name="Webhooks v2 spec.pdf")
        self.chat_mark("reactions_same_user_twice", s, m)

        # 1:1 with a person without a Slack account
        s = "dm-diego-victor"
        m = self.chat_says(s, "2022-01-17T16:47:02.551Z", "diego", p("Welcome aboard, Victor! Ping me here for "
                           "anything contract-related."))
        m = self.new_chat_msg(s, "2022-01-17T17:03:44.120Z", "victor")
        self.set_html(m, p("Thanks Diego! Here's how I'd wire the retry queue:") + "\n<p>"
                      + self.chat_img(s, m, "diagram", 600, 360) + "</p>")
        self.chat_mark("inline_image", s, m)
        self.chat_mark("unmatched_author", s, m, user="Victor Ng")
        g = self.new_chat_msg(s, "2023-03-14T21:10:05.338Z", "victor")
        g["from"] = None
        g["_modified"] = "2023-03-14T21:10:48.006Z"
        self.chat_mark("deleted_without_deletedDateTime", s, g)
        self.chat_says(s, "2023-03-14T21:11:30.472Z", "victor", p("Sent that too early, sorry. Invoice follows by mail."))

        # 1:1 with the disabled user, before she left
        s = "dm-zoe-christie"
        m = self.chat_says(s, "2022-06-30T14:05:12.771Z", "christie", p("Month 6 stability notes, in case I'm not "
                           "around when the auditors ask:"))
        m["body"]["content"] += "\n" + self.chat_attach(m, "christie", "Stability study - month 6.docx", None,
                                                        "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
        self.chat_mark("file_missing", s, m, name="Stability study - month 6.docx",
                       contentUrl=m["attachments"][0]["contentUrl"])
        self.chat_mark("disabled_user_message", s, m, user="Christie Cline")
        m = self.chat_says(s, "2022-07-28T17:20:40.019Z", "christie", p("Last day tomorrow. It's been a pleasure "
                           "working with you, Zoë ❤️"))
        self.chat_react(m, [("zoe", "heart", None, 120)])
        self.chat_mark("disabled_user_message", s, m, user="Christie Cline")
        self.chat_says(s, "2022-08-02T08:45:03.660Z", "zoe", p("The lab is too quiet without you. Good luck!"))
        m = self.chat_says(s, "2021-02-11T11:31:09.402Z", "christie", "<div>Samples look good "
                           "<span class=\"animated-emoticon-20-smile\"><img itemscope=\"\" itemtype=\"http://schema.skype.com/Emoji\" "
                           "itemid=\"smile\" src=\"https://statics.teams.cdn.office.net/evergreen-assets/skype/v2/smile/default/20_f.png\" "
                           "title=\"Smile\" alt=\"😄\" style=\"width:20px;height:20px;\"></span></div>")
        self.chat_react(m, [("zoe", "like", None, 30), ("zoe", "laugh", None, 35)])
        self.chat_mark("reactions_legacy", s, m)

        # the two Alex Kims
        s = "dm-alexk1-alexk2"
        m = self.chat_says(s, "2024-02-06T10:51:02.337Z", "alexk1", p("Hi other Alex 👋 starting a chat so our "
                           "emails stop crossing."))
        m = self.chat_says(s, "2024-02-06T10:58:19.645Z", "alexk2", p("Ha, yes! I'm the Tokyo one. 東京のアレックスです。"))
        self.chat_react(m, [("alexk1", "😂", "Face with tears of joy", 45)])
        self.chat_mark("same_display_name_chat", s, m)

        # group without a topic
        s = "group-lab-rota"
        m = self.new_chat_msg(s, "2023-04-18T07:55:40.128Z", "pat")
        self.set_html(m, "<p>Chamber after the weekend run (before / after):</p>\n<p>"
                      + self.chat_img(s, m, "photo", 480, 480) + "&nbsp;" + self.chat_img(s, m, "photo", 480, 480) + "</p>")
        self.chat_react(m, [("johanna", "👀", "Eyes", 300), ("zoe", "🙏", "Folded hands", 420)])
        self.chat_mark("inline_image", s, m, images=2)
        m = self.chat_says(s, "2023-04-18T08:10:02.905Z", "johanna", "<p>{} can you log it in the notebook?</p>")
        m["body"]["content"] = m["body"]["content"].replace("{}", self.at_user(m, "pat", per_word=True))
        self.chat_mark("mention_per_word", s, m, user="Pat Rivera")

        # group with a topic set after creation
        s = "group-checkout-launch"
        self.chat_system(s, "2025-03-31T09:02:40.006Z", {
            "@odata.type": "#microsoft.graph.chatRenamedEventMessageDetail",
            "chatId": self.chats[s]["json"]["id"], "chatDisplayName": self.chats[s]["spec"].topic,
            "initiator": self.user_set("megan", with_name=False)})
        m = self.chat_says(s, "2025-04-01T08:30:11.404Z", "henrietta", p("Launch checklist v1 — please tick your items:"))
        pdf = pdf_bytes("Checkout v2 launch checklist", ["[x] Load test at 2x traffic", "[x] Feature flags default off",
                                                        "[ ] Support macros", "[ ] Status page template"])
        m["body"]["content"] += "\n" + self.chat_attach(m, "henrietta", "Launch checklist.pdf", pdf, "application/pdf")
        self.chat_react(m, [("megan", "👍", "Thumbs up", 60), ("lena", "👍", "Thumbs up", 95),
                            ("alexw", "🚀", "Rocket", 130), ("siobhan", "💯", "Hundred points", 400)])
        self.chat_mark("file_pdf", s, m, name="Launch checklist.pdf")
        self.chat_mark("reactions_many_users", s, m)
        m = self.chat_says(s, "2025-04-29T15:45:50.833Z", "megan", "<p>{} {} go/no-go is tomorrow 10:00. "
                           "<strong>Please be there.</strong></p>")
        a1, a2 = self.at_user(m, "alexw"), self.at_user(m, "henrietta")
        m["body"]["content"] = m["body"]["content"].replace("{} {}", f"{a1} {a2}", 1)
        m["importance"] = "high"
        self.chat_mark("mention", s, m, user="Alex Wilber, Henrietta Mueller")
        self.chat_mark("importance_high", s, m)
        d = self.new_chat_msg(s, "2025-05-06T06:58:03.770Z", "lena")
        d["deletedDateTime"] = "2025-05-06T07:01:22.118Z"
        self.chat_mark("deleted", s, d)
        m = self.chat_says(s, "2025-05-06T09:14:37.552Z", "siobhan", p("Flag at 100%. No customer tickets so far."))
        m["lastEditedDateTime"] = "2025-05-06T09:20:05.009Z"
        self.chat_mark("edited", s, m)

        # non-Latin topic, a CSV from OneDrive
        s = "group-apac-renewal"
        csv = ("項目,金額_jpy,状態\n年間ライセンス,12500000,交渉中\n保守サポート,2400000,合意\n"
               "\"研修, 2日間\",600000,未定\n").encode()
        m = self.chat_says(s, "2023-11-06T01:20:44.903Z", "wangfang", p("大阪精機様の更新見積もりです。确认一下金额。"))
        m["body"]["content"] += "\n" + self.chat_attach(m, "wangfang", "大阪精機_見積もり.csv", csv, "text/csv")
        self.chat_mark("file_csv", s, m, name="大阪精機_見積もり.csv")
        m = self.chat_says(s, "2023-11-07T00:35:12.118Z", "hanako", "<p>{} さん、ありがとうございます！先方に送付します。</p>")
        m["body"]["content"] = m["body"]["content"].replace("{}", self.at_user(m, "wangfang"))
        self.chat_react(m, [("wangfang", "🙏", "Folded hands", 200), ("kenji", "👍", "Thumbs up", 260)])
        self.chat_mark("mention_non_latin", s, m, user="王芳")

        # larger than a Slack group DM, people added later
        s = "group-offsite-2025"
        m = self.chat_says(s, "2025-01-13T16:31:40.227Z", "patti", p("Kicking off planning for the 2025 offsite. "
                           "Two days in May, whole leadership group. Ideas welcome!"))
        self.chat_react(m, [(k, "🎉", "Party popper", 30 + 41 * i) for i, k in
                            enumerate(["megan", "adele", "miriam", "diego", "siobhan", "hanako", "zoe"])])
        self.chat_mark("reactions_many_users", s, m)
        self.chat_system(s, "2025-02-03T08:15:27.330Z", {
            "@odata.type": "#microsoft.graph.membersAddedEventMessageDetail",
            "visibleHistoryStartDateTime": "0001-01-01T00:00:00Z",
            "members": [self.identity(k, with_name=False) for k in ["lena", "omar", "priya", "emilie"]],
            "initiator": self.user_set("patti", with_name=False)})
        m = self.chat_says(s, "2025-02-03T08:20:03.551Z", "patti", "<p>Welcome {}! You're on the agenda "
                           "committee 🙂</p>")
        names = ", ".join(self.at_user(m, k) for k in ["lena", "omar", "priya", "emilie"])
        m["body"]["content"] = m["body"]["content"].replace("{}", names)
        self.chat_mark("mention", s, m, user="4 people added later")
        m = self.new_chat_msg(s, "2025-03-10T12:00:44.318Z", "miriam")
        self.set_html(m, "<p>Votes so far:</p>\n<p>" + self.chat_img(s, m, "chart", 640, 400) + "</p>")
        self.chat_mark("inline_image", s, m)
        m = self.chat_says(s, "2025-03-10T12:05:19.001Z", "emilie", p("Whistler it is! 🎿"))
        self.chat_react(m, [(k, "❤️", "Red heart", 20 + 33 * i) for i, k in
                            enumerate(["patti", "lena", "omar", "priya", "irvin"])])

        # meeting chat
        s = "meeting-sev1-review"
        org = "jose"
        m = self.chat_says(s, "2025-03-19T12:10:02.487Z", org, p("Agenda: timeline (10 min), root cause (15), "
                           "what went well/wrong (20), action items (15). Draft timeline attached:"))
        pdf = pdf_bytes("SEV1 timeline draft", ["08:05 first 502s", "08:12 incident declared",
                                               "13:40 widget disabled", "17:02 resolved"])
        m["body"]["content"] += "\n" + self.chat_attach(m, org, "SEV1 timeline draft.pdf", pdf, "application/pdf")
        self.chat_mark("file_pdf", s, m, name="SEV1 timeline draft.pdf")
        call_id = self.guid()
        start = parse_iso("2025-03-20T15:00:41.207Z")
        self.chat_system(s, start, {
            "@odata.type": "#microsoft.graph.callStartedEventMessageDetail",
            "callEventType": "meeting", "callId": call_id,
            "initiator": self.user_set(org, with_name=False)})
        for i, (who, text) in enumerate([("nestor", "Joining in two minutes."), ("omar", "Can you share your screen?"),
                                         ("bjorn", "Slow query log: see the incident thread, reply 24."),
                                         ("henrietta", "I'll take the load-test item."),
                                         ("siobhan", "Customer comms template will be ready Friday.")]):
            self.chat_says(s, start + (2 + i * 9) * MINUTE + 3_117 * i, who, p(text))
        end = start + 52 * MINUTE + 37_000
        participants = ["jose", "nestor", "adele", "omar", "bjorn", "siobhan", "henrietta"]
        self.chat_system(s, end, {
            "@odata.type": "#microsoft.graph.callEndedEventMessageDetail",
            "callDuration": "PT51M56S", "callEventType": "meeting", "callId": call_id,
            "callParticipants": [{"participant": self.user_set(k, with_name=False)} for k in participants],
            "initiator": self.user_set(org, with_name=False)})
        m = self.chat_says(s, end + 6 * MINUTE + 2_004, org, "<p>Thanks all. Action items:</p>\n<ol>\n"
                           "<li>{0} statement timeout on orders-db</li><li>{1} pool saturation alert</li>"
                           "<li>{2} load test in the release checklist</li></ol>")
        m["body"]["content"] = m["body"]["content"].format(self.at_user(m, "bjorn"), self.at_user(m, "omar"),
                                                           self.at_user(m, "henrietta"))
        self.chat_react(m, [("adele", "👍", "Thumbs up", 90), ("diego", "👍", "Thumbs up", 600),
                            ("omar", "💯", "Hundred points", 130)])
        self.chat_mark("mention", s, m, user="three people")
        self.chat_mark("meeting_after_call", s, m)
        self.chat_says(s, "2025-03-20T14:55:30.118Z", "adele", p("Running five minutes late, start without me."))
        for when, who, text in [("2025-03-20T16:31:05.640Z", "omar", "Pool saturation alert is live in staging."),
                                ("2025-03-21T09:10:44.902Z", "bjorn", "Timeout PR is up: statement_timeout = 2 s "
                                                                     "for every service role."),
                                ("2025-03-21T14:02:17.337Z", "siobhan", "Post-mortem is posted in Customer Success "
                                                                        "› Escalations.")]:
            m = self.chat_says(s, when, who, p(text))
        self.chat_react(m, [("jose", "🙏", "Folded hands", 75), ("adele", "❤️", "Red heart", 310)])

        # a member left; another was added
        s = "group-renewals-war-room"
        self.chat_system(s, "2023-10-02T07:45:00.518Z", {
            "@odata.type": "#microsoft.graph.membersAddedEventMessageDetail",
            "visibleHistoryStartDateTime": "0001-01-01T00:00:00Z",
            "members": [self.identity("lena", with_name=False)],
            "initiator": self.user_set("diego", with_name=False)})
        m = self.chat_says(s, "2023-10-02T07:50:13.006Z", "diego", "<p>Adding {} to help with the DACH renewals.</p>")
        m["body"]["content"] = m["body"]["content"].replace("{}", self.at_user(m, "lena"))
        self.chat_mark("mention", s, m, user="Lena Fischer")
        for when, text in [("2023-09-19T09:02:40.330Z", "I'll take Coho Winery and Proseware."),
                           ("2023-11-14T15:30:08.812Z", "Handing my accounts to Ngozi next week, moving to the "
                                                        "Fabrikam project.")]:
            m = self.chat_says(s, when, "rafael", p(text))
            self.chat_mark("message_by_member_who_left", s, m, user="Rafael Souza")
        self.chat_system(s, "2023-11-20T16:05:31.777Z", {
            "@odata.type": "#microsoft.graph.membersDeletedEventMessageDetail",
            "members": [self.identity("rafael", with_name=False)],
            "initiator": self.user_set("diego", with_name=False)})
        m = self.chat_says(s, "2023-11-21T10:12:55.640Z", "emilie", p("Renouvellement Alpine Ski House signé (36 mois)"))
        m["lastEditedDateTime"] = "2023-11-21T10:14:02.199Z"
        self.chat_react(m, [("diego", "🎉", "Party popper", 300), ("lena", "🎉", "Party popper", 420),
                            ("siobhan", "👏", "Clapping hands", 500)])
        self.chat_mark("edited", s, m)

        # deactivated-in-Slack member, no topic
        s = "group-pipeline-hygiene"
        m = self.chat_says(s, "2021-04-19T15:25:10.009Z", "ben", p("Starting this chat for the weekly CRM cleanup. "
                           "List of stale opportunities follows every Monday."))
        self.chat_mark("slack_deactivated_author", s, m, user="Ben Walters")
        m = self.chat_says(s, "2022-09-12T07:40:30.250Z", "kenji", p("Tokyo pipeline is clean ✅"), text=True)
        self.chat_mark("text_body", s, m)

        # guest without a Slack account
        s = "group-latam-overflow"
        m = self.chat_says(s, "2021-09-06T14:05:02.775Z", "luis", p("¡Hola! Luis here. We start taking overflow "
                           "tickets on Monday, 08:00 CDMX."))
        self.chat_react(m, [("diego", "👍", "Thumbs up", 120), ("ngozi", "👋", "Waving hand", 300)])
        self.chat_mark("guest_message", s, m, user="Luis Ortega (Contoso)")
        self.chat_mark("unmatched_author", s, m, user="Luis Ortega (Contoso)")
        m = self.chat_says(s, "2021-09-06T14:20:48.113Z", "ngozi", "<p>Welcome {}! The queue rules are pinned in "
                           "Customer Success › General.</p>")
        m["body"]["content"] = m["body"]["content"].replace("{}", self.at_user(m, "luis"))
        self.chat_mark("mention_guest", s, m, user="Luis Ortega (Contoso)")

    def chat_filler(self, short: str) -> None:
        r = self.rng
        chat = self.chats[short]
        spec: ChatSpec = chat["spec"]
        start, end = parse_iso(spec.created) + HOUR, parse_iso(spec.end) - DAY
        pool = POOLS[spec.pool]
        for t in sorted(r.randint(start, end) for _ in range(spec.sessions)):
            last = None
            for _ in range(r.randint(2, 6)):
                cands = self.chat_posters(short, t)
                if not cands or t >= end:
                    break
                others = [k for k in cands if k != last]
                who = r.choice(others if others and r.random() < 0.8 else cands)
                msg = self.new_chat_msg(short, t, who)
                self.chat_body(short, msg, who, r.choice(spec.lines) if r.random() < 0.55 else
                               self.fill(r.choice(pool["reply"])))
                last = who
                t += int(r.expovariate(1 / (6 * MINUTE))) + 15_000

    def chat_body(self, short: str, msg: Json, author: str, sentence: str) -> None:
        r = self.rng
        when = parse_iso(msg["createdDateTime"])
        wrap = "div" if when < parse_iso("2021-01-01T00:00:00.000Z") and r.random() < 0.6 else "p"
        esc = html.escape(sentence, quote=False)
        roll = r.random()
        if roll < 0.10:
            self.set_text(msg, sentence)
        elif roll < 0.18 and self.chats[short]["json"]["chatType"] != "oneOnOne":
            who = r.choice([k for k in self.chat_members_at(short, when) if k != author])
            self.set_html(msg, f"<{wrap}>{self.at_user(msg, who)} {esc}</{wrap}>")
        elif roll < 0.26:
            second = html.escape(self.fill(r.choice(POOLS[self.chats[short]['spec'].pool]["reply"])), quote=False)
            self.set_html(msg, f"<{wrap}>{esc}<br>\n{second}</{wrap}>")
        elif roll < 0.36:
            eid, alt, title = r.choice(EMOJI_TAGS)
            self.set_html(msg, f'<{wrap}>{esc} <emoji id="{eid}" alt="{alt}" title="{title}"></emoji></{wrap}>')
        elif roll < 0.42:
            fmt = r.choice(["<strong>{}</strong>", "<i>{}</i>", "<b>FYI</b> — {}", "{} <s>(never mind)</s>"])
            self.set_html(msg, f"<{wrap}>{fmt.format(esc)}</{wrap}>")
        else:
            self.set_html(msg, f"<{wrap}>{esc}{'&nbsp;' if r.random() < 0.15 else ''}</{wrap}>")

    def chat_decorate(self) -> None:
        r = self.rng
        legacy_until = parse_iso("2022-06-01T00:00:00.000Z")
        for short, chat in self.chats.items():
            end = parse_iso(chat["spec"].end)
            for msg in chat["messages"]:
                if msg["messageType"] != "message" or msg["from"] is None or msg.get("_fixed"):
                    continue
                if msg["body"]["content"] == "" or msg["deletedDateTime"]:
                    continue
                created = parse_iso(msg["createdDateTime"])
                if r.random() < 0.2 and not msg["reactions"]:
                    author = msg["from"]["user"]["id"]
                    people = [k for k in self.chat_posters(short, created) if self.users[k]["id"] != author]
                    for who in r.sample(people, min(len(people), r.randint(1, 3))):
                        when = min(created + r.randint(30_000, 2 * DAY), end - 1)
                        if who not in self.chat_posters(short, when):
                            continue
                        if created < legacy_until:
                            self.react(msg, who, r.choice(LEGACY_REACTIONS), None, when)
                        else:
                            emo, name = r.choice(UNICODE_REACTIONS)
                            self.react(msg, who, emo, name, when)
                if r.random() < 0.05 and msg["lastEditedDateTime"] is None:
                    msg["lastEditedDateTime"] = iso(min(created + r.randint(20_000, 2 * HOUR), end - 5_000))

    def chat_finalize(self) -> None:
        for chat in self.chats.values():
            for msg in chat["messages"]:
                times = [parse_iso(msg["createdDateTime"])]
                if msg["lastEditedDateTime"]:
                    edited = parse_iso(msg["lastEditedDateTime"])
                    times.append(edited + 1 + (edited % 1500))
                if msg["deletedDateTime"]:
                    times.append(parse_iso(msg["deletedDateTime"]))
                times += [parse_iso(x["createdDateTime"]) for x in msg["reactions"]]
                if msg.get("_modified"):
                    times.append(parse_iso(msg.pop("_modified")))
                msg.pop("_fixed", None)
                last = max(times)
                assert last < parse_iso(chat["spec"].end), msg["id"]
                msg["lastModifiedDateTime"] = iso(last)
                msg["etag"] = str(last)
            chat["messages"].sort(key=lambda m: (m["createdDateTime"], m["id"]))

def strip_tags(fragment: str) -> str:
    """Rough text of an HTML fragment (for length checks only)."""
    out, inside = [], False
    for c in fragment:
        if c == "<":
            inside = True
        elif c == ">":
            inside = False
        elif not inside:
            out.append(c)
    return html.unescape("".join(out))


# --------------------------------------------------------------------------------------------
# known answers

CASE_TEXT = {
    "longest_thread_root": "Root of the longest thread (137 replies: more than two pages of 50); subject set, importance urgent",
    "importance_high": "importance \"high\"", "importance_urgent": "importance \"urgent\"",
    "team_mention": "Team mention (mentions[].mentioned.conversation, conversationIdentityType \"team\")",
    "mention_channel": "Channel mention (conversationIdentityType \"channel\", points at Engineering › Backend)",
    "mention_tag": "Tag mention (mentions[].mentioned.tag, \"On-call SRE\")",
    "mention_per_word": "Per-word mention: `<at id=\"0\">Megan</at>&nbsp;<at id=\"1\">Bowen</at>`, both entries point at the same user",
    "mention_guest": "Mention of a guest user", "mention_unmatched_user": "Mention of a user with no Slack account (Victor Ng, per-word)",
    "mention_non_latin": "Mention of a user with a non-Latin name (王芳)",
    "code_codeblock": "`<codeblock class=\"PlainText\"><code>` (2026 format), entities inside",
    "code_pre": "`<pre>` block with entities", "code_inline": "Inline `<code>` (with `&lt;tenant&gt;`)",
    "code_highlightjs": "Older code-block editor: `<p itemtype=…CodeBlockEditor>` + `<pre class=\"language-python\">` with hljs spans, `<br>` and `&nbsp;`",
    "code_inline_then_codeblock": "Inline `<code>` before a `<codeblock>` (the shape of the Jan 2026 server bug)",
    "long_code_block": "Long log paste (~9 KB) in one `<codeblock>`",
    "table_header_row": "`<table>` with `<thead>`/`<th>` header row", "table_first_row_header": "Teams copy-paste table whose first `<td>` row is the header",
    "nested_lists": "Nested `<ol>`/`<ul>` three levels deep", "headings": "`<h1>`–`<h3>`, `<hr>`, indented `<p style=margin-left>`",
    "blockquote": "`<blockquote>` with paragraphs", "entities": "Entities: `&amp;` `&lt;` `&quot;` `&nbsp;` `&copy;` `&mdash;` `&#39;` `&#x2122;`",
    "edited": "Edited message (lastEditedDateTime set, lastModifiedDateTime later)",
    "inline_image": "Inline image(s): `<img src=…/hostedContents/{id}/$value>` with bytes in files/index.json",
    "file_pdf": "Reference attachment to a real PDF (driveItems)", "file_csv": "Reference attachment to a CSV (UTF-8, non-ASCII)",
    "file_png": "Reference attachment to a small real PNG (attached as a file, not pasted inline)",
    "file_large": "Reference attachment to a ~300 KB PNG (size-cap tests)",
    "file_missing": "Reference attachment whose file is gone from SharePoint (no driveItems entry)",
    "file_referenced_twice": "Same SharePoint file as Engineering › General's Q3 Roadmap.pdf, attached again in another team",
    "bot_adaptive_card": "Bot message (from.application, applicationIdentityType bot, from.user null) with an adaptive card; summary set",
    "bot_message": "Bot message with a plain HTML body",
    "injection_html": "Notification injection attempts in HTML: `&lt;!channel&gt;`, `&amp;lt;!here&amp;gt;`, `&lt;@U123ABC&gt;`, `@everyone`, `&lt;!subteam^S123&gt;`, in code and in a link",
    "injection_text": "contentType \"text\" reply with raw `<!here> <!channel> <@U123ABC> <!subteam^S123|@oncall> & @everyone <b>`",
    "text_body_non_latin": "contentType \"text\" body in Japanese containing `<重要>`",
    "very_long_message": "Very long post-mortem (> 9,000 HTML chars, > 8,000 text chars): must be split, never truncated",
    "quoted_reply": "messageReference attachment (reply with quote); content is a JSON string",
    "forwarded_message": "forwardedMessageReference attachment (forward of the SEV1 incident root)",
    "deleted_root_with_replies": "Deleted root WITH 3 replies (empty body, deletedDateTime set) → placeholder root",
    "deleted_root_without_replies": "Deleted root without replies (empty body, deletedDateTime set) → skipped",
    "deleted_reply": "Deleted reply (empty body, deletedDateTime set)",
    "deleted_without_deletedDateTime": "Deleted reply with deletedDateTime null, empty body and from null (reference §10 gotcha)",
    "reaction_custom": "Reactions: one \"custom\" (displayName + reactionContentUrl → hostedContents), plus 👍 and 💯",
    "reactions_legacy": "Legacy reactionType names (like, heart, laugh, surprised, sad, angry)",
    "reactions_unicode": "Unicode reactionType (🎉 👍 💯) with displayName",
    "emoji_tag": "`<emoji id=\"1f440_eyes\" alt=\"👀\" title=\"Eyes\"></emoji>`",
    "emoji_legacy_img": "Legacy `<img itemtype=\"http://schema.skype.com/Emoji\">` inside `<span class=animated-emoticon…>`",
    "guest_message": "Message authored by a guest", "disabled_user_message": "Message authored by the disabled account (Christie Cline)",
    "private_channel_message": "Message in a private channel",
    "same_display_name_thread": "Thread where both \"Alex Kim\"s talk (and one mentions the other)",
    "archived_team_message": "Message in the archived team", "archived_team_last_message": "Last message of the archived team (the day before the archive)",
    "system_event": "System event (messageType systemEventMessage, from null, body `<systemEventMessage/>`)",
    "system_event_reply": "System event that is a reply (messagePinnedEventMessageDetail inside a thread)",
}


class Answers:
    """Computes expected.json and README.md from a built Generator."""

    def __init__(self, g: Generator) -> None:
        self.g = g

    def all_messages(self) -> list[tuple[str, Json]]:
        return [(ck, m) for ck, ch in self.g.channels.items() for m in ch["messages"]]

    @staticmethod
    def is_deleted(m: Json) -> bool:
        return m["messageType"] == "message" and (m["deletedDateTime"] is not None or m["body"]["content"] == "")

    def matches(self) -> dict[str, Json]:
        directory: dict[str, list[Json]] = {}
        for su in self.g.slack["users"]:
            email = su["profile"].get("email")
            if su["is_bot"] or su["id"] == "USLACKBOT" or not email:
                continue
            directory.setdefault(email.lower(), []).append(su)
        out = {}
        for key, u in self.g.users.items():
            routes = [("mail", [u["mail"]]), ("userPrincipalName", [u["userPrincipalName"]]),
                      ("otherMails", u["otherMails"]),
                      ("proxyAddresses", [p[5:] for p in u["proxyAddresses"] if p.lower().startswith("smtp:")])]
            found: list[tuple[str, Json]] = []
            for route, addrs in routes:
                for a in addrs:
                    for su in directory.get((a or "").lower(), []):
                        found.append((route, su))
            distinct: list[str] = []
            for _, su in found:
                if su["id"] not in distinct:
                    distinct.append(su["id"])
            entry: Json = {"key": key, "displayName": u["displayName"]}
            if not distinct:
                entry.update(route="none", slackUserId=None, slackDeleted=None)
            else:
                # The first route that finds an active account wins; with none active, the
                # first (deactivated) one is named, and the person stays unmapped in the plan.
                route, su = next(((r, x) for r, x in found if not x["deleted"]), found[0])
                entry.update(route=route, slackUserId=su["id"], slackDeleted=su["deleted"])
                if len(distinct) > 1:   # the other accounts: warnings in the plan
                    cands: dict[str, str] = {}
                    for r, x in found:
                        cands.setdefault(r, x["id"])
                    entry["candidates"] = cands
            out[u["id"]] = entry
        return out

    def channel_names(self) -> list[Json]:
        g = self.g
        rows = []
        for ck, ch in g.channels.items():
            team = g.teams[ch["team"]]
            tslug, cslug = slugify(team["json"]["displayName"]), slugify(ch["json"]["displayName"])
            hashed = [part for part, s in (("team", tslug), ("channel", cslug)) if not s]
            rows.append({"key": ck, "teamId": team["json"]["id"], "channelId": ch["json"]["id"],
                         "team": team["json"]["displayName"], "channel": ch["json"]["displayName"],
                         "membershipType": ch["json"]["membershipType"],
                         "createdDateTime": ch["json"]["createdDateTime"],
                         "slug": None if hashed else f"{tslug}-{cslug}", "hashParts": hashed})
        rows.sort(key=lambda r: r["createdDateTime"])
        taken = [c["name"] for c in g.slack["channels"]]
        for r in rows:
            slug = r["slug"]
            r["slugLength"] = len(slug) if slug else None
            if slug is None or len(slug) > 80:
                r["expectedSlackName"] = None  # depends on the hash rule / the truncation details
                continue
            name, n = slug, 1
            while name in taken:
                n += 1
                name = f"{slug}-{n}"
            taken.append(name)
            r["expectedSlackName"] = name
        return rows

    def chats(self) -> Json:
        """The "chats" section of expected.json (definitions in README.md, section Chats)."""
        g = self.g
        matches = self.matches()
        unmapped = {uid for uid, v in matches.items() if v["slackUserId"] is None or v["slackDeleted"]}
        guests = {g.users[k]["id"] for k in GUESTS}
        rows, msgs = [], []
        for short, chat in g.chats.items():
            spec: ChatSpec = chat["spec"]
            members = sorted(x["userId"] for x in chat["members"])
            msgs += chat["messages"]
            rows.append({
                "id": chat["json"]["id"],
                "chatType": chat["json"]["chatType"],
                "topic": chat["json"]["topic"],
                "members": members,
                "membersLeft": sorted(g.users[k]["id"] for _, keys, _ in spec.removed for k in keys),
                "messages": len(chat["messages"]),
                "userMessages": sum(1 for m in chat["messages"]
                                    if m["messageType"] == "message" and not self.is_deleted(m)),
                "unmappedMembers": sorted(set(members) & unmapped),
                "guests": sorted(set(members) & guests),
                "shortName": short,
            })
        rows.sort(key=lambda r: r["id"])
        deleted = [m for m in msgs if self.is_deleted(m)]
        refs = [a for m in msgs for a in m["attachments"] if a["contentType"] == "reference"]
        urls = {d["webUrl"] for d in g.chat_drive}
        per_user = {}
        for uid in sorted(u["id"] for u in g.users.values()):
            per_user[uid] = sum(r["messages"] for r in rows if uid in r["members"])
        by_type = {t: sum(1 for r in rows if r["chatType"] == t) for t in ("oneOnOne", "group", "meeting")}
        return {
            "about": ("1:1, group and meeting chats under graph/chats/. Computed by the generator from what it "
                      "generated; definitions in README.md, section Chats. The top-level counts, files and "
                      "edgeCases cover teams and channels only."),
            "total": len(rows),
            "byChatType": by_type,
            "messages": len(msgs),
            "byKind": {
                "systemEvents": sum(1 for m in msgs if m["messageType"] == "systemEventMessage"),
                "deleted": {"total": len(deleted),
                            "withoutDeletedDateTime": sum(1 for m in deleted if m["deletedDateTime"] is None)},
                "edited": sum(1 for m in msgs if m["lastEditedDateTime"]),
                "withReactions": sum(1 for m in msgs if m["reactions"]),
                "reactions": sum(len(m["reactions"]) for m in msgs),
                "withMentions": sum(1 for m in msgs if m["mentions"]),
                "textBodies": sum(1 for m in msgs if m["body"]["contentType"] == "text"),
                "hostedContents": len(g.chat_hosted),
                "driveItems": len(g.chat_drive),
                "referenceAttachments": len(refs),
                "missingFiles": sum(1 for a in refs if a["contentUrl"] not in urls),
            },
            "missingFiles": list(g.chat_missing_urls),
            "perChat": rows,
            "largerThanGroupDm": [r["id"] for r in rows if len(r["members"]) > SLACK_GROUP_DM_MAX],
            "perUserGetAllMessages": per_user,
            "getAllMessagesSumOverUsers": sum(per_user.values()),
            "uniqueMessages": len({(m["chatId"], m["id"]) for m in msgs}),
            "edgeCases": g.chat_cast,
        }

    def expected(self) -> Json:
        g = self.g
        msgs = self.all_messages()
        roots = [m for _, m in msgs if m["replyToId"] is None]
        replies = [m for _, m in msgs if m["replyToId"] is not None]
        reply_count: dict[tuple[str, str], int] = {}
        for ck, m in msgs:
            if m["replyToId"]:
                reply_count[(ck, m["replyToId"])] = reply_count.get((ck, m["replyToId"]), 0) + 1
        deleted = [(ck, m) for ck, m in msgs if self.is_deleted(m)]
        d_roots = [(ck, m) for ck, m in deleted if m["replyToId"] is None]
        (lk, lroot), lcount = max(reply_count.items(), key=lambda kv: kv[1])
        users = list(g.users.values())
        ref_atts = [a for _, m in msgs for a in m["attachments"] if a["contentType"] == "reference"]
        drive_urls = {d["webUrl"] for d in g.drive}
        matches = self.matches()
        by_key = {v["key"]: uid for uid, v in matches.items()}
        names = self.channel_names()
        groups: dict[str, list[str]] = {}
        for r in names:
            if r["slug"]:
                groups.setdefault(r["slug"], []).append(r["channelId"])
        existing = {c["name"]: c for c in g.slack["channels"]}
        mtype = lambda t: sum(1 for ch in g.channels.values() if ch["json"]["membershipType"] == t)  # noqa: E731
        archived = g.teams["mkt"]["json"]
        arch_msgs = [m for ck in g.archived_channels() for m in g.channels[ck]["messages"]]
        sam = matches[by_key["sam"]]
        counts = {
            "users": len(users),
            "members": sum(1 for u in users if u["userType"] == "Member"),
            "guests": sum(1 for u in users if u["userType"] == "Guest"),
            "disabled": sum(1 for u in users if not u["accountEnabled"]),
            "usersWithoutMail": sum(1 for u in users if u["mail"] is None),
            "teams": len(g.teams),
            "archivedTeams": sum(1 for t in g.teams.values() if t["json"]["isArchived"]),
            "teamsMissingFromGroupsFilter": sorted(t["json"]["displayName"] for t in g.teams.values()
                                                   if t["spec"].legacy_group),
            "channels": {"total": len(g.channels), "standard": mtype("standard"), "private": mtype("private"),
                         "shared": mtype("shared")},
            "teamMembers": sum(len(t["members"]) for t in g.teams.values()),
            "messages": {
                "total": len(msgs),
                "roots": len(roots),
                "replies": len(replies),
                "systemEvents": sum(1 for _, m in msgs if m["messageType"] == "systemEventMessage"),
                "deleted": {
                    "total": len(deleted),
                    "rootsWithReplies": sum(1 for ck, m in d_roots if reply_count.get((ck, m["id"]))),
                    "rootsWithoutReplies": sum(1 for ck, m in d_roots if not reply_count.get((ck, m["id"]))),
                    "replies": sum(1 for _, m in deleted if m["replyToId"]),
                    "withoutDeletedDateTime": sum(1 for _, m in deleted if m["deletedDateTime"] is None),
                },
                "edited": sum(1 for _, m in msgs if m["lastEditedDateTime"]),
                "textBodies": sum(1 for _, m in msgs if m["body"]["contentType"] == "text"),
                "withSubject": sum(1 for _, m in msgs if m["subject"]),
                "importanceHigh": sum(1 for _, m in msgs if m["importance"] == "high"),
                "importanceUrgent": sum(1 for _, m in msgs if m["importance"] == "urgent"),
                "fromApplication": sum(1 for _, m in msgs if m["from"] and m["from"]["application"]),
                "withMentions": sum(1 for _, m in msgs if m["mentions"]),
                "withReactions": sum(1 for _, m in msgs if m["reactions"]),
                "reactions": sum(len(m["reactions"]) for _, m in msgs),
                "inArchivedTeam": len(arch_msgs),
            },
            "hostedContents": len(g.hosted),
            "driveItems": len(g.drive),
            "referenceAttachments": len(ref_atts),
            "missingFiles": sum(1 for a in ref_atts if a["contentUrl"] not in drive_urls),
            "slackUsers": len(g.slack["users"]),
            "slackChannels": len(g.slack["channels"]),
        }
        special = {
            "disabled": by_key["christie"],
            "noMail": by_key["pat"],
            "otherMailsOnly": by_key["lena"],
            "proxyAddressOnly": by_key["omar"],
            "otherAccountByLaterRoute": {"teamsUserId": by_key["sam"],
                                         "slackUserByMail": sam["candidates"]["mail"],
                                         "slackUserByOtherMails": sam["candidates"]["otherMails"]},
            "unmatched": [uid for uid, v in matches.items() if v["route"] == "none"],
            "deactivatedInSlack": {"teamsUserId": by_key["ben"], "slackUserId": g.slack_ids["ben"]},
            "emailCaseDiffers": [by_key["megan"], by_key["diego"]],
            "guests": [g.users[k]["id"] for k in GUESTS],
            "guestPendingAcceptance": by_key["aiko"],
            "sameDisplayName": [by_key["alexk1"], by_key["alexk2"]],
            "nonLatinNames": [by_key[k] for k in ("wangfang", "dmitry", "hanako")],
            "accentedNames": [by_key[k] for k in ("jose", "zoe", "siobhan", "bjorn", "emilie")],
            "joinedLate": {g.users[k]["id"]: v for k, v in JOINED.items()},
        }
        long_row = next(r for r in names if r["slug"] and len(r["slug"]) > 80)
        return {
            "about": ("Known answers for examples/demo-tenant, computed by examples/generate_demo_tenant.py from "
                      "what it generated (no migrate code involved). Definitions are in README.md."),
            "seed": g.seed,
            "tenant": {"tenantId": g.tenant_id, "displayName": COMPANY, "domain": DOMAIN},
            "counts": counts,
            "longestThread": {"teamId": g.teams[g.channels[lk]["team"]]["json"]["id"],
                              "channelId": g.channels[lk]["json"]["id"], "rootId": lroot, "replyCount": lcount},
            "archivedTeam": {"teamId": archived["id"], "displayName": archived["displayName"],
                             "archivedDateTime": ARCHIVE_AT,
                             "lastActivityDateTime": max(m["lastModifiedDateTime"] for m in arch_msgs)},
            "specialUsers": special,
            "userMatching": matches,
            "channels": names,
            "collidingChannelNames": {
                "existingSlackChannels": [
                    {"name": n, "slackChannelId": existing[n]["id"], "isArchived": existing[n]["is_archived"],
                     "teamsChannelId": groups[n][0]} for n in ("engineering-general", "marketing-campaigns")],
                "plannedCollisions": {s: ids for s, ids in groups.items() if len(ids) > 1},
                "hashRuleChannels": [r["channelId"] for r in names if r["hashParts"]],
                "over80Chars": {"channelId": long_row["channelId"], "slug": long_row["slug"],
                                "slugLength": long_row["slugLength"]},
                "topicOver250Chars": [ch["json"]["id"] for ch in g.channels.values()
                                      if len(ch["json"]["description"] or "") > 250],
            },
            "files": {
                "missing": list(g.missing_urls),
                "large": {"webUrl": next(d["webUrl"] for d in g.drive if d["name"] == "load-test-heatmap.png"),
                          "size": len(g.images["heatmap"])},
            },
            "edgeCases": g.cast,
            "chats": self.chats(),
        }


# --------------------------------------------------------------------------------------------
# README.md


def md(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def readme(g: Generator, exp: Json) -> str:
    c = exp["counts"]
    mc = c["messages"]
    L: list[str] = []
    a = L.append
    a("# Demo tenant: Northwind Labs")
    a("")
    a("A fictional company's Microsoft Teams data (Microsoft Graph JSON shapes) and the Slack workspace it")
    a("moves to. **Generated — do not edit by hand.** This folder, `expected.json` and this README are the")
    a("output of")
    a("")
    a("```")
    a(f"python examples/generate_demo_tenant.py --out examples/demo-tenant --seed {g.seed}")
    a("```")
    a("")
    a("which is deterministic (same seed → byte-identical files; `tests/sandbox/test_demo_tenant.py` checks")
    a("that the committed files are exactly the generator's output). To change the data, change the")
    a("generator and re-run it. Load it with `migrate.sandbox.tenant.load_sandbox(folder)`.")
    a("")
    a("Ids below (GUIDs, channel ids, message ids, Slack ids) are those of the committed seed.")
    a("`expected.json` holds the same facts in machine-readable form (counts, special users, the")
    a("user→Slack matching, channel names, collisions, and every edge case under `edgeCases`).")
    a("")
    a("## Layout")
    a("")
    a("| path | content |")
    a("|---|---|")
    a("| `graph/tenant.json` | tenant id and name |")
    a("| `graph/users.json` | Graph `user` objects (with otherMails, proxyAddresses, accountEnabled, userType, …) |")
    a("| `graph/teams/<team-id>.json` | `team`, its `aadUserConversationMember`s, and per channel: `channel`, its own members (private/shared only), and `chatMessage`s (roots and replies, sorted by createdDateTime) |")
    a("| `graph/files/index.json` | `hostedContents` (inline images, custom reaction image) and `driveItems` (SharePoint files) → bytes under `graph/files/hosted/` and `graph/files/drive/`. An inline image's `src` is `…/teams/{t}/channels/{c}/messages/{id}/hostedContents/{hc}/$value` for a root and `…/messages/{root}/replies/{id}/hostedContents/{hc}/$value` for a reply; a driveItem's `webUrl` is the `contentUrl` of the reference attachments that point at it |")
    a("| `slack/workspace.json` | the target Slack workspace: team, bot, users, existing channels (with members) |")
    a("| `expected.json` | known answers |")
    a("")
    a("## At a glance")
    a("")
    a("| what | count |")
    a("|---|---|")
    rows = [
        ("users (members + guests)", f"{c['users']} ({c['members']} + {c['guests']})"),
        ("disabled accounts", c["disabled"]), ("users without mail", c["usersWithoutMail"]),
        ("teams (archived)", f"{c['teams']} ({c['archivedTeams']})"),
        ("channels: standard / private / shared", f"{c['channels']['standard']} / {c['channels']['private']} / {c['channels']['shared']}"),
        ("messages: total (roots + replies)", f"{mc['total']} ({mc['roots']} + {mc['replies']})"),
        ("system events", mc["systemEvents"]),
        ("deleted: total / roots with replies / roots without / replies / without deletedDateTime",
         f"{mc['deleted']['total']} / {mc['deleted']['rootsWithReplies']} / {mc['deleted']['rootsWithoutReplies']} / "
         f"{mc['deleted']['replies']} / {mc['deleted']['withoutDeletedDateTime']}"),
        ("edited", mc["edited"]), ("contentType text", mc["textBodies"]),
        ("importance high / urgent", f"{mc['importanceHigh']} / {mc['importanceUrgent']}"),
        ("from an application (bot)", mc["fromApplication"]),
        ("with mentions / with reactions (reactions)", f"{mc['withMentions']} / {mc['withReactions']} ({mc['reactions']})"),
        ("longest thread", f"{exp['longestThread']['replyCount']} replies under root {exp['longestThread']['rootId']}"),
        ("hosted contents / drive items / reference attachments / missing files",
         f"{c['hostedContents']} / {c['driveItems']} / {c['referenceAttachments']} / {c['missingFiles']}"),
        ("Slack users / existing Slack channels", f"{c['slackUsers']} / {c['slackChannels']}"),
    ]
    for k, v in rows:
        a(f"| {k} | {v} |")
    a("")
    a("Definitions: *root* = `replyToId` null; *reply* = `replyToId` set; *system event* = `messageType` "
      "`systemEventMessage`; *deleted* = `messageType` `message` and (`deletedDateTime` set **or** body "
      "content empty) — reference §10: deletions may come without `deletedDateTime`; *edited* = "
      "`lastEditedDateTime` set; *missing file* = a `reference` attachment whose `contentUrl` is no "
      "driveItem's `webUrl`. Message ids are the epoch milliseconds of `createdDateTime` and are unique in the "
      "whole tenant (so `hostedContents[].messageId` is unambiguous).")
    a("")
    a("## Users")
    a("")
    a("Matching route = the first of `mail` → `userPrincipalName` → `otherMails` → `proxyAddresses` "
      "(`smtp:` aliases) whose address equals a Slack user's `profile.email`, case-insensitively. "
      "DESIGN §4.4 names the first three; the proxy-address user is only matched by a matcher that also "
      "reads `proxyAddresses`.")
    a("")
    a("| edge case | user | Teams id | matching / notes |")
    a("|---|---|---|---|")
    m = exp["userMatching"]
    s = exp["specialUsers"]

    def urow(case: str, uid: str, note: str) -> None:
        u = next(x for x in g.users.values() if x["id"] == uid)
        a(f"| {case} | {md(u['displayName'])} | `{uid}` | {md(note)} |")

    urow("disabled account (accountEnabled false) who authored messages", s["disabled"], "no Slack account; messages in R&D, R-D, Marketing")
    urow("no `mail` (null), matched by UPN", s["noMail"], f"route {m[s['noMail']]['route']} → `{m[s['noMail']]['slackUserId']}`")
    urow("matched only by `otherMails`", s["otherMailsOnly"], f"otherMails lena.fischer@adatum.com → `{m[s['otherMailsOnly']]['slackUserId']}`")
    urow("matched only through an `smtp:` proxy address", s["proxyAddressOnly"], f"smtp:ohaddad@{DOMAIN} → `{m[s['proxyAddressOnly']]['slackUserId']}`")
    amb = s["otherAccountByLaterRoute"]
    urow("mail and otherMails match two different Slack users: mail wins, the other is a warning",
         amb["teamsUserId"],
         f"mail → `{amb['slackUserByMail']}` (mapped), otherMails (sam@adatum.com vs Slack Sam@Adatum.com) → `{amb['slackUserByOtherMails']}` (warning)")
    dz = s["deactivatedInSlack"]
    urow("matched to a deactivated Slack user (deleted true)", dz["teamsUserId"], f"→ `{dz['slackUserId']}`")
    for uid in s["emailCaseDiffers"]:
        urow("email differs only in case between Teams and Slack", uid, f"→ `{m[uid]['slackUserId']}`")
    for uid in s["unmatched"]:
        urow("no Slack match", uid, "route none")
    for uid in s["guests"]:
        u = next(x for x in g.users.values() if x["id"] == uid)
        urow("guest (userType Guest, creationType Invitation)", uid,
             f"{u['externalUserState']}; UPN {u['userPrincipalName']}; route {m[uid]['route']}")
    for uid in s["sameDisplayName"]:
        urow("same displayName as another person", uid, f"mail {next(x for x in g.users.values() if x['id'] == uid)['mail']}")
    for uid in s["nonLatinNames"]:
        su = next(x for x in g.slack["users"] if x["id"] == m[uid]["slackUserId"])
        urow("non-Latin name", uid, f"route {m[uid]['route']} → `{su['id']}` (Slack real_name {su['real_name']})")
    for uid in s["accentedNames"]:
        urow("accented name", uid, f"route {m[uid]['route']}")
    for uid, when in s["joinedLate"].items():
        urow("joined after the team was created", uid, f"no activity before {when}")
    a("")
    a("## Teams and channels")
    a("")
    a("Channels in creation order (the order that decides who keeps a colliding name). `slug` = "
      "`{team}-{channel}` slugified per DESIGN §4.4, before the 80-character cap and collision suffixes; "
      "*expected Slack name* applies those rules against the existing Slack channels (blank where the "
      "non-Latin hash rule or the truncation details decide).")
    a("")
    a("| team | channel | type | created | channel id | slug | expected Slack name | notes |")
    a("|---|---|---|---|---|---|---|---|")
    coll = exp["collidingChannelNames"]
    notes_by_id: dict[str, list[str]] = {}
    for e in coll["existingSlackChannels"]:
        notes_by_id.setdefault(e["teamsChannelId"], []).append(
            f"collides with existing {'ARCHIVED ' if e['isArchived'] else ''}Slack #{e['name']}")
    for slug, ids in coll["plannedCollisions"].items():
        for i, cid in enumerate(ids):
            notes_by_id.setdefault(cid, []).append(f"planned collision on {slug} ({'first' if i == 0 else 'later'})")
    for cid in coll["hashRuleChannels"]:
        notes_by_id.setdefault(cid, []).append("non-Latin part → hash rule")
    notes_by_id.setdefault(coll["over80Chars"]["channelId"], []).append(f"slug is {coll['over80Chars']['slugLength']} chars (> 80)")
    for cid in coll["topicOver250Chars"]:
        notes_by_id.setdefault(cid, []).append("description > 250 chars")
    for r in exp["channels"]:
        team = g.teams[g.channels[r["key"]]["team"]]
        if team["json"]["isArchived"]:
            notes_by_id.setdefault(r["channelId"], []).append("team archived")
        a(f"| {md(r['team'])} | {md(r['channel'])} | {r['membershipType']} | {r['createdDateTime'][:10]} | "
          f"`{r['channelId']}` | {r['slug'] or '—'} | {r['expectedSlackName'] or ''} | "
          f"{md('; '.join(notes_by_id.get(r['channelId'], [])))} |")
    a("")
    a("| team | team id | visibility | archived | members (owners/guests) |")
    a("|---|---|---|---|---|")
    for t in g.teams.values():
        owners = sum(1 for x in t["members"] if "owner" in x["roles"])
        guests = sum(1 for x in t["members"] if "guest" in x["roles"])
        a(f"| {md(t['json']['displayName'])} | `{t['json']['id']}` | {t['json']['visibility']} | "
          f"{t['json']['isArchived']} | {len(t['members'])} ({owners}/{guests}) |")
    a("")
    a(f"The archived team's last activity is {exp['archivedTeam']['lastActivityDateTime']}, before its "
      f"archive at {exp['archivedTeam']['archivedDateTime']}. The shared channel's members include a guest "
      "who is not a member of the team (Kari Nordmann) and an in-tenant user from another team (Megan Bowen).")
    a("")
    legacy = ", ".join(exp["counts"]["teamsMissingFromGroupsFilter"])
    a(f"An older team ({md(legacy)}) has a group without \"Team\" in `resourceProvisioningOptions` "
      "(its file carries `\"group\": {\"resourceProvisioningOptions\": []}`): "
      "`GET /groups?$filter=resourceProvisioningOptions/Any(x:x eq 'Team')` misses it, `GET /teams` "
      "lists it (reference/graph.md §3.1, §12).")
    a("")
    a("## Messages: where each edge case lives")
    a("")
    a("| edge case | team › channel | message id | details |")
    a("|---|---|---|---|")
    for case, places in g.cast.items():
        if case == "system_event":
            continue
        for p in places:
            extra = {k: v for k, v in p.items() if k not in ("team", "channel", "teamId", "channelId", "messageId")}
            detail = ", ".join(f"{k}: {v}" for k, v in extra.items())
            a(f"| {md(CASE_TEXT.get(case, case))} | {md(p['team'])} › {md(p['channel'])} | `{p['messageId']}` | {md(detail)} |")
    a("")
    a("System events (all roots except the one marked as a reply above):")
    a("")
    a("| eventDetail type | team › channel | message id |")
    a("|---|---|---|")
    for p in g.cast["system_event"]:
        a(f"| {p['eventType']} | {md(p['team'])} › {md(p['channel'])} | `{p['messageId']}` |")
    a("")
    a("Besides these, every channel has filler threads (0–7 replies) written in the same shapes: `<p>` and "
      "older `<div>` bodies, `&nbsp;`, `<br>`, lists, links, bold/italic/underline/strike, `<emoji>` tags "
      "(legacy `<img itemtype=…Emoji>` before 2021), inline code, random user mentions (whole-name and "
      "per-word), plain-text bodies, random edits, and reactions (legacy names before mid-2022, Unicode "
      "after). 営業 is in Japanese and Québec Renewals partly in French.")
    a("")
    a("## Files")
    a("")
    a("| kind | name / message | id | file | bytes |")
    a("|---|---|---|---|---|")
    for d in g.drive:
        a(f"| driveItem ({d['mimeType']}) | {md(d['name'])} | `{d['id']}` | `graph/files/{d['file']}` | {len(g.files[d['file']])} |")
    for url in g.missing_urls:
        a(f"| MISSING (no driveItem) | {md(url)} | — | — | — |")
    for h in g.hosted:
        a(f"| hostedContent ({h['contentType']}) | message `{h['messageId']}` | `{h['id'][:24]}…` | `graph/files/{h['file']}` | {len(g.files[h['file']])} |")
    a("")
    a("## Slack workspace")
    a("")
    sl = g.slack
    a(f"Team `{sl['team']['id']}` ({sl['team']['name']}, domain `{sl['team']['domain']}`); bot user "
      f"`{sl['bot']['user_id']}` (bot `{sl['bot']['bot_id']}`, app `{sl['bot']['app_id']}`); Slackbot `USLACKBOT`.")
    a("")
    a("| Slack user | id | email | flags |")
    a("|---|---|---|---|")
    for u in sl["users"]:
        flags = [f for f in ("deleted", "is_bot", "is_admin", "is_owner", "is_primary_owner", "is_restricted",
                             "is_ultra_restricted") if u.get(f)]
        a(f"| {md(u['real_name'])} | `{u['id']}` | {md(u['profile'].get('email') or '—')} | {', '.join(flags)} |")
    a("")
    a("| existing channel | id | archived | bot member | members |")
    a("|---|---|---|---|---|")
    for ch in sl["channels"]:
        a(f"| #{ch['name']} | `{ch['id']}` | {ch['is_archived']} | {sl['bot']['user_id'] in ch['members']} | {len(ch['members'])} |")
    a("")
    a("Slack-only people (no Teams account): Jordan Blake (primary owner), Morgan Reyes, and the old "
      "\"Sam T\" account that Sam Taylor's otherMails also reach (his mail wins; the plan warns).")
    a("")
    readme_chats(g, exp, a)
    return "\n".join(L)


CHAT_CASE_TEXT = {
    "file_pdf": "Reference attachment to a PDF in the sender's OneDrive (driveItems entry)",
    "file_csv": "Reference attachment to a CSV with a non-Latin file name (OneDrive)",
    "file_missing": "Reference attachment whose OneDrive file is gone (the disabled user's; no driveItems entry)",
    "inline_image": "Inline image(s): `<img src=…/chats/{chatId}/messages/{id}/hostedContents/{hc}/$value>`",
    "edited": "Edited message (lastEditedDateTime set, lastModifiedDateTime later)",
    "deleted": "Deleted message (empty body, deletedDateTime set)",
    "deleted_without_deletedDateTime": "Deleted message with deletedDateTime null, empty body and from null (reference §0.9, §10)",
    "mention": "User mention(s) `<at id=\"N\">` with mentions[]", "mention_per_word": "Per-word mention (two `<at>` for one user)",
    "mention_guest": "Mention of a guest", "mention_non_latin": "Mention of a user with a non-Latin name (王芳)",
    "guest_message": "Message authored by a guest", "unmatched_author": "Message authored by a person with no Slack account",
    "disabled_user_message": "Message authored by the disabled account (Christie Cline)",
    "slack_deactivated_author": "Message authored by a person whose Slack account is deactivated (Ben Walters)",
    "message_by_member_who_left": "Message by a member who was later removed from the chat (stays in the chat)",
    "reactions_legacy": "Legacy reactionType names (like, laugh) and a legacy emoji `<img>`",
    "reactions_many_users": "Reactions from four or more people", "reactions_same_user_twice": "Two different reactions by the same person",
    "same_display_name_chat": "1:1 between the two \"Alex Kim\"s", "importance_high": "importance \"high\" in a chat",
    "text_body": "contentType \"text\" body", "meeting_after_call": "Meeting chat message written after callEnded",
    "system_event": "System event (messageType systemEventMessage, from null, body `<systemEventMessage/>`)",
}


def readme_chats(g: Generator, exp: Json, a: Any) -> None:
    ch = exp["chats"]
    k = ch["byKind"]
    users = {u["id"]: u for u in g.users.values()}
    name = lambda uid: users[uid]["displayName"]  # noqa: E731
    a("## Chats")
    a("")
    a("1:1, group and meeting chats, one file per chat: `graph/chats/<short-name>.json` = `{\"chat\": chat, "
      "\"members\": [aadUserConversationMember, …], \"messages\": [chatMessage, …]}`. `chat` is Graph's `chat` "
      "(`id`, `topic` — null for 1:1 chats and for group chats nobody named —, `createdDateTime`, "
      "`lastUpdatedDateTime` = the latest of creation, rename and member change, `chatType`, `webUrl`, `tenantId`, "
      "`onlineMeetingInfo` — a `teamworkOnlineMeetingInfo` for the meeting chat, null otherwise —, "
      "`isHiddenForAllMembers` false; no `viewpoint`). `members` are the CURRENT members only (a removed member is "
      "absent; a disabled user stays a member); `roles` is `[\"owner\"]` for in-tenant members of 1:1 and group "
      "chats and for the meeting organizer, `[]` for guests and the other meeting attendees. Messages have "
      "`chatId` set, `channelIdentity`, `replyToId` and `webUrl` null (chats have no threads), ids unique across "
      "the whole tenant (channel and chat messages together), sorted by `createdDateTime`.")
    a("")
    a("Chat ids: 1:1 `19:{userId}_{userId}@unq.gbl.spaces` (the two user ids, sorted); group "
      "`19:{32 hex}@thread.v2`; meeting `19:meeting_{base64 of a GUID}@thread.v2`. Inline images in chat "
      "messages point at `https://graph.microsoft.com/v1.0/chats/{chatId}/messages/{messageId}/hostedContents/"
      "{hcId}/$value`; their `graph/files/index.json` `hostedContents` entries carry `\"chatId\"` (channel entries "
      "do not). Files shared in chats are `reference` attachments to the sender's OneDrive "
      "(`https://northwindlabs-my.sharepoint.com/personal/{UPN with . and @ as _}/Documents/"
      "Microsoft%20Teams%20Chat%20Files/{name}`); their `driveItems` entries (one OneDrive `driveId` per sender) "
      "are appended after the channel ones. None of this is in the top-level `counts`, `files` or `edgeCases` "
      "of `expected.json`, which cover teams and channels only.")
    a("")
    a("| chat (file) | id | type | topic | members (left) | messages | what it is for |")
    a("|---|---|---|---|---|---|---|")
    rows = {r["shortName"]: r for r in ch["perChat"]}
    for short, chat in g.chats.items():
        r = rows[short]
        left = f" ({len(r['membersLeft'])} left)" if r["membersLeft"] else ""
        a(f"| `{short}` | `{r['id']}` | {r['chatType']} | {md(r['topic'] or '—')} | {len(r['members'])}{left} | "
          f"{r['messages']} | {md(chat['spec'].purpose)} |")
    a("")
    a("| what | count |")
    a("|---|---|")
    bt = ch["byChatType"]
    for label, value in [
        ("chats: oneOnOne / group / meeting", f"{ch['total']}: {bt['oneOnOne']} / {bt['group']} / {bt['meeting']}"),
        ("messages (unique)", f"{ch['messages']} ({ch['uniqueMessages']})"),
        ("system events", k["systemEvents"]),
        ("deleted (without deletedDateTime)", f"{k['deleted']['total']} ({k['deleted']['withoutDeletedDateTime']})"),
        ("edited", k["edited"]), ("contentType text", k["textBodies"]),
        ("with mentions / with reactions (reactions)", f"{k['withMentions']} / {k['withReactions']} ({k['reactions']})"),
        ("hosted contents / drive items / reference attachments / missing files",
         f"{k['hostedContents']} / {k['driveItems']} / {k['referenceAttachments']} / {k['missingFiles']}"),
        ("larger than a Slack group DM (> 9 members)", ", ".join(f"`{x}`" for x in ch["largerThanGroupDm"])),
        ("getAllMessages summed over all users (before de-duplication)", ch["getAllMessagesSumOverUsers"]),
    ]:
        a(f"| {label} | {value} |")
    a("")
    a("Definitions (`expected.json` → `chats`): `total`, `byChatType` count chats; `messages` counts every "
      "chat message (system events and deleted ones included); `byKind` uses the channel definitions "
      "(*system event* = `messageType` `systemEventMessage`; *deleted* = `messageType` `message` and "
      "(`deletedDateTime` set **or** body empty); *edited* = `lastEditedDateTime` set; *missing file* = a "
      "`reference` attachment whose `contentUrl` is no driveItem's `webUrl`), counted over chats only. "
      "`perChat` (sorted by chat id): `members` = current member user ids (sorted); `membersLeft` = ids of people "
      "removed from the chat; `messages` = all messages; `userMessages` = `messageType` `message` and not "
      "deleted; `unmappedMembers` = current members with no active Slack account by the generator's own "
      "matching (`userMatching` route none, or only a deactivated Slack account — Ben Walters); `guests` = "
      "current members with `userType` Guest. `largerThanGroupDm` = chats with more than 9 current members (a "
      "Slack group DM holds at most 9 people including the caller). `perUserGetAllMessages` = for every user, "
      "the number of messages `GET /users/{id}/chats/getAllMessages` returns = the sum of `messages` over the "
      "chats the user is CURRENTLY a member of (0 for users in no chat); `getAllMessagesSumOverUsers` = their "
      "sum (what an export that does not de-duplicate reads); `uniqueMessages` = distinct (chatId, message id) "
      "pairs. `chats.edgeCases` maps an edge case to where it lives (`chat`, `chatId`, `messageId`).")
    a("")
    a("| edge case | chat | message id | details |")
    a("|---|---|---|---|")
    for case, places in g.chat_cast.items():
        for p in places:
            extra = {x: v for x, v in p.items() if x not in ("chat", "chatId", "chatType", "messageId")}
            detail = ", ".join(f"{x}: {v}" for x, v in extra.items())
            a(f"| {md(CHAT_CASE_TEXT.get(case, case))} | `{p['chat']}` | `{p['messageId']}` | {md(detail)} |")
    a("")
    a("People in chats worth knowing: guests "
      + ", ".join(sorted({name(x) for r in ch["perChat"] for x in r["guests"]}))
      + "; unmapped in Slack " + ", ".join(sorted({name(x) for r in ch["perChat"] for x in r["unmappedMembers"]}))
      + "; removed from a chat " + ", ".join(sorted({name(x) for r in ch["perChat"] for x in r["membersLeft"]})) + ".")
    a("")
    a("| chat file | kind | name | id | file | bytes |")
    a("|---|---|---|---|---|---|")
    short_of = {c["json"]["id"]: s for s, c in g.chats.items()}
    def owner(url: str) -> str:
        return next(s for s, c in g.chats.items()
                    if any(x["contentUrl"] == url for m in c["messages"] for x in m["attachments"]))

    for d in g.chat_drive:
        a(f"| `{owner(d['webUrl'])}` | driveItem ({d['mimeType']}) | {md(d['name'])} | `{d['id']}` | `graph/files/{d['file']}` | "
          f"{len(g.files[d['file']])} |")
    for url in g.chat_missing_urls:
        a(f"| `{owner(url)}` | MISSING (no driveItem) | {md(url)} | — | — | — |")
    for h in g.chat_hosted:
        a(f"| `{short_of[h['chatId']]}` | hostedContent ({h['contentType']}) | message `{h['messageId']}` | "
          f"`{h['id'][:24]}…` | `graph/files/{h['file']}` | {len(g.files[h['file']])} |")
    a("")


# --------------------------------------------------------------------------------------------
# build, check, write


def build(seed: int) -> tuple[Generator, Json]:
    g = Generator(seed)
    g.build_users()
    g.build_teams()
    g.system_events()
    g.featured_engineering()
    g.featured_research()
    g.featured_sales()
    g.featured_marketing()
    g.featured_customer_success()
    for ck in g.channels:
        g.filler(ck)
    g.decorate()
    g.finalize()
    g.build_slack()
    g.build_chats()
    exp = Answers(g).expected()
    check(g, exp)
    return g, exp


def check(g: Generator, exp: Json) -> None:
    """The generator's own guarantees; a failure here means the cast drifted."""
    deleted_ids = {p["messageId"] for case in ("deleted_root_with_replies", "deleted_root_without_replies",
                                               "deleted_reply", "deleted_without_deletedDateTime")
                   for p in g.cast[case]}
    for ck, ch in g.channels.items():
        end = g.channel_end(ck)
        for msg in ch["messages"]:
            empty = msg["body"]["content"] == ""
            assert empty == (msg["id"] in deleted_ids), (ck, msg["id"])
            if empty:
                assert not (msg["reactions"] or msg["mentions"] or msg["attachments"] or msg["lastEditedDateTime"])
            assert parse_iso(msg["lastModifiedDateTime"]) < end
    c = exp["counts"]
    assert c["messages"]["total"] >= 2000, c["messages"]
    assert 35 <= c["users"] <= 45 and c["guests"] >= 3 and c["teams"] == 6
    assert exp["longestThread"]["replyCount"] > 120
    routes = {v["key"]: v["route"] for v in exp["userMatching"].values()}
    for key, route in routes.items():
        assert route == MATCH_ROUTE.get(key, "mail"), (key, route)
    # no Slack user's email belongs to two different Teams users
    for su in g.slack["users"]:
        email = (su["profile"].get("email") or "").lower()
        owners = [k for k, u in g.users.items()
                  if email and email in {x.lower() for x in [u["mail"] or "", u["userPrincipalName"], *u["otherMails"],
                                                              *[p[5:] for p in u["proxyAddresses"]]]}]
        assert len(owners) <= 1, (su["id"], owners)
    assert 250_000 < exp["files"]["large"]["size"] < 350_000
    assert exp["collidingChannelNames"]["over80Chars"]["slugLength"] > 80
    vlm = g.cast["very_long_message"][0]
    assert vlm["htmlChars"] > 9000 and vlm["textChars"] > 8000, vlm
    check_chats(g, exp)


def check_chats(g: Generator, exp: Json) -> None:
    """The chats' invariants (like check() for teams); a failure means the chat cast drifted."""
    users = {u["id"]: k for k, u in g.users.items()}
    channel_ids = {m["id"] for ch in g.channels.values() for m in ch["messages"]}
    chat_ids: set[str] = set()
    hosted = {(h["chatId"], h["messageId"], h["id"]) for h in g.chat_hosted}
    seen_hosted: set[tuple[str, str, str]] = set()
    drive = {d["webUrl"]: d for d in g.chat_drive}
    missing: list[str] = []
    deleted_ids = {p["messageId"] for case in ("deleted", "deleted_without_deletedDateTime") for p in g.chat_cast[case]}
    low, high = parse_iso("2019-03-04T00:00:00.000Z"), END_MS
    img = re.compile(r'<img[^>]*\ssrc="([^"]+/hostedContents/[^"]+)"')
    for short, chat in g.chats.items():
        spec: ChatSpec = chat["spec"]
        cj, cid = chat["json"], chat["json"]["id"]
        member_keys = [users[x["userId"]] for x in chat["members"]]
        left = {k for _, keys, _ in spec.removed for k in keys}
        assert not left & set(member_keys), short
        assert all(x["@odata.type"] == "#microsoft.graph.aadUserConversationMember"
                   and x["visibleHistoryStartDateTime"] == "0001-01-01T00:00:00Z" and x["roles"] in (["owner"], [])
                   and base64.b64decode(x["id"]).decode().endswith(f"##{cid}##{x['userId']}") for x in chat["members"])
        if cj["chatType"] == "oneOnOne":
            assert len(member_keys) == 2 and cj["topic"] is None
            assert cid == "19:" + "_".join(sorted(x["userId"] for x in chat["members"])) + "@unq.gbl.spaces"
        elif cj["chatType"] == "meeting":
            assert re.fullmatch(r"19:meeting_[A-Za-z0-9]+@thread\.v2", cid) and cj["topic"]
            info = cj["onlineMeetingInfo"]
            assert info["organizer"]["id"] == chat["members"][0]["userId"] and info["joinWebUrl"] and info["calendarEventId"]
            kinds = [m["eventDetail"]["@odata.type"] for m in chat["messages"] if m["eventDetail"]]
            assert kinds.count("#microsoft.graph.callStartedEventMessageDetail") == 1
            assert kinds.count("#microsoft.graph.callEndedEventMessageDetail") == 1
        else:
            assert re.fullmatch(r"19:[0-9a-f]{32}@thread\.v2", cid) and len(spec.members) >= 3
        assert (cj["onlineMeetingInfo"] is None) == (cj["chatType"] != "meeting") and "viewpoint" not in cj
        events = {m["eventDetail"]["@odata.type"].split(".")[-1]: m for m in chat["messages"] if m["eventDetail"]}
        for when, keys, _ in spec.added:
            ev = events["membersAddedEventMessageDetail"]
            assert ev["createdDateTime"] == when and {x["id"] for x in ev["eventDetail"]["members"]} >= {
                g.users[k]["id"] for k in keys}
        for when, keys, _ in spec.removed:
            ev = events["membersDeletedEventMessageDetail"]
            assert ev["createdDateTime"] == when
            assert [x["id"] for x in ev["eventDetail"]["members"]] == [g.users[k]["id"] for k in keys]
            assert any(m["from"] and m["from"]["user"]["id"] == g.users[k]["id"] for k in keys for m in chat["messages"])
        created = parse_iso(cj["createdDateTime"])
        assert low < created and parse_iso(cj["lastUpdatedDateTime"]) >= created
        prev = ""
        for m in chat["messages"]:
            assert m["chatId"] == cid and m["channelIdentity"] is None and m["replyToId"] is None
            assert m["id"] == str(parse_iso(m["createdDateTime"])) and m["id"] not in channel_ids | chat_ids
            chat_ids.add(m["id"])
            assert m["createdDateTime"] >= prev
            prev = m["createdDateTime"]
            t = parse_iso(m["createdDateTime"])
            mod = parse_iso(m["lastModifiedDateTime"])
            assert created < t <= mod < min(high, parse_iso(spec.end)) and m["etag"] == str(mod)
            for x in m["reactions"]:
                assert t <= parse_iso(x["createdDateTime"]) <= mod
                assert users[x["user"]["user"]["id"]] in g.chat_posters(short, parse_iso(x["createdDateTime"]))
            if m["lastEditedDateTime"]:
                assert t < parse_iso(m["lastEditedDateTime"]) < mod
            empty = m["body"]["content"] == ""
            assert empty == (m["id"] in deleted_ids), (short, m["id"])
            if empty:
                assert not (m["reactions"] or m["mentions"] or m["attachments"] or m["lastEditedDateTime"])
            if m["messageType"] == "systemEventMessage":
                assert m["from"] is None and m["body"]["content"] == "<systemEventMessage/>"
                continue
            if m["from"] is not None:
                assert users[m["from"]["user"]["id"]] in g.chat_posters(short, t), (short, m["id"])
            if m["body"]["contentType"] == "text":
                assert not m["mentions"] and not m["attachments"]
                continue
            content = m["body"]["content"]
            placed = re.findall(r'<attachment id="([^"]+)"></attachment>', content)
            assert sorted(placed) == sorted(x["id"] for x in m["attachments"]), m["id"]
            at_ids = [int(x) for x in re.findall(r'<at id="(\d+)">', content)]
            assert at_ids == [x["id"] for x in m["mentions"]] == list(range(len(m["mentions"]))), m["id"]
            for url in img.findall(content):
                prefix = f"{GRAPH}/chats/{cid}/messages/{m['id']}/hostedContents/"
                assert url.startswith(prefix) and url.endswith("/$value"), url
                key = (cid, m["id"], url[len(prefix):-len("/$value")])
                assert key in hosted, url
                seen_hosted.add(key)
            for x in m["attachments"]:
                assert x["contentType"] == "reference"
                assert x["contentUrl"].startswith("https://northwindlabs-my.sharepoint.com/personal/")
                assert "/Documents/Microsoft%20Teams%20Chat%20Files/" in x["contentUrl"]
                if x["contentUrl"] in drive:
                    assert drive[x["contentUrl"]]["name"] == x["name"]
                else:
                    missing.append(x["contentUrl"])
    assert seen_hosted == hosted
    assert missing == g.chat_missing_urls and len(missing) == 1
    for h in g.chat_hosted:
        assert g.files[h["file"]].startswith(b"\x89PNG") and len(g.files[h["file"]]) < 2048
    ch = exp["chats"]
    assert 12 <= ch["total"] <= 15 and 150 <= ch["messages"] <= 300 and ch["uniqueMessages"] == ch["messages"]
    assert all(ch["byChatType"].values()) and ch["largerThanGroupDm"]
    k = ch["byKind"]
    assert k["deleted"]["withoutDeletedDateTime"] >= 1 and k["deleted"]["total"] > k["deleted"]["withoutDeletedDateTime"]
    assert min(k["edited"], k["withReactions"], k["withMentions"], k["hostedContents"], k["referenceAttachments"],
               k["systemEvents"]) > 0 and k["missingFiles"] == 1
    special = exp["specialUsers"]
    ones = [r for r in ch["perChat"] if r["chatType"] == "oneOnOne"]
    assert any(r["guests"] for r in ones)
    assert any(set(r["members"]) & set(special["unmatched"]) for r in ones)
    assert any(special["disabled"] in r["members"] for r in ones)
    assert any(r["membersLeft"] for r in ch["perChat"])
    assert sum(ch["perUserGetAllMessages"].values()) == ch["getAllMessagesSumOverUsers"] > ch["messages"]
    assert sorted(users) == sorted(ch["perUserGetAllMessages"])


def dump(obj: Any) -> bytes:
    return (json.dumps(obj, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def write(g: Generator, exp: Json, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    for sub in ("graph", "slack"):
        if (out / sub).is_dir():
            shutil.rmtree(out / sub)
    files: dict[str, bytes] = {
        "graph/tenant.json": dump({"tenantId": g.tenant_id, "displayName": COMPANY}),
        "graph/users.json": dump(list(g.users.values())),
        "graph/files/index.json": dump({"hostedContents": g.hosted + g.chat_hosted,
                                        "driveItems": g.drive + g.chat_drive}),
        "slack/workspace.json": dump(g.slack),
        "expected.json": dump(exp),
        "README.md": readme(g, exp).encode("utf-8"),
    }
    for t in g.teams.values():
        group = {"resourceProvisioningOptions": []} if t["spec"].legacy_group else {}
        files[f"graph/teams/{t['json']['id']}.json"] = dump({
            "team": t["json"], **({"group": group} if group else {}), "members": t["members"],
            "channels": [{"channel": ch["json"], "members": ch["members"], "messages": ch["messages"]}
                         for ch in g.channels.values() if ch["team"] == t["spec"].key]})
    for short, chat in g.chats.items():
        files[f"graph/chats/{short}.json"] = dump({"chat": chat["json"], "members": chat["members"],
                                                   "messages": chat["messages"]})
    for path, data in g.files.items():
        files[f"graph/files/{path}"] = data
    written = []
    for rel in sorted(files):
        p = out / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(files[rel])
        written.append(p)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (default: %(default)s)")
    args = parser.parse_args(argv)
    g, exp = build(args.seed)
    written = write(g, exp, args.out)
    total = sum(p.stat().st_size for p in written)
    c = exp["counts"]
    print(f"wrote {len(written)} files ({total / 1e6:.2f} MB) to {args.out}: {c['users']} users, "
          f"{c['teams']} teams, {c['channels']['total']} channels, {c['messages']['total']} messages")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
