"""`migrate bundle` on the demo tenant: ZIPs that an independent reader of Slack export
archives (slack-export-viewer, not our code) opens with every message, thread and reaction in
place; byte-identical for the same store; private and chat content never in public channels;
a later bundle carries only what is new; parts under --max-mb."""

from __future__ import annotations

import json
import sqlite3
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from migrate.sandbox.runner import start_sandbox

from ..conftest import run_migrate

slackviewer = pytest.importorskip("slackviewer.reader", reason="slack-export-viewer is in the test extra")


def _bundle(env: dict, *args: str) -> dict:
    result = run_migrate("--json", "bundle", *args, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def bundled(tmp_path_factory):
    first, second = tmp_path_factory.mktemp("b1"), tmp_path_factory.mktemp("b2")
    with start_sandbox(rate_scale=50) as sandbox:
        env = {**sandbox.env(), "MIGRATE_WORKDIR": str(first)}
        doc = _bundle(env)
        again = _bundle({**env, "MIGRATE_WORKDIR": str(second)})
        chat = next(c for c in sandbox.data.graph.chats if len(c.members) == 3)
        author = chat.members[0]
        sandbox.graph.add_chat_message(chat.chat["id"], {
            "from": {"user": {"id": author["userId"], "displayName": author.get("displayName"),
                              "userIdentityType": "aadUser"}},
            "body": {"contentType": "html", "content": "<p>after the first bundle</p>"}})
        delta = _bundle(env)
        parts = _bundle({**env, "MIGRATE_WORKDIR": str(tmp_path_factory.mktemp("b3"))},
                        "--split", "year", "--max-mb", "0.05")
        plan = run_migrate("--json", "plan", env={**env, "MIGRATE_WORKDIR": str(second),
                                                  "MIGRATE_CHATS_TO_CHANNELS": "all"}, timeout=300)
    assert plan.returncode == 0, plan.stderr[-2000:]
    return {"doc": doc, "again": again, "delta": delta, "parts": parts, "first": first,
            "second": second, "plan": json.loads(plan.stdout), "demo": sandbox.data}


def _read(path: str, tmp: Path) -> dict[str, dict[str, list]]:
    """The ZIP through slack-export-viewer's Reader: {kind: {conversation: [Message]}}."""
    folder = tmp / Path(path).stem
    with zipfile.ZipFile(path) as archive:
        archive.extractall(folder)
    config = SimpleNamespace(archive=str(folder), since=None, hide_channels=[], filter_user=None,
                             skip_channel_member_change=False, thread_note=False)
    reader = slackviewer.Reader(config)
    return {"channels": reader.compile_channels(), "groups": reader.compile_groups(),
            "dms": reader.compile_dm_messages(), "mpims": reader.compile_mpim_messages()}


def test_an_independent_reader_finds_every_message_thread_and_reaction(bundled, tmp_path):
    doc = bundled["doc"]
    assert doc["bundles"] and Path(doc["import_instructions"]).read_text().startswith("# Importing")
    conn = sqlite3.connect(bundled["first"] / "state.db")
    carried = dict(((bundle, name), n) for bundle, name, n in conn.execute(
        "SELECT i.bundle, c.name, COUNT(*) FROM bundle_items i "
        "JOIN bundle_conversations c ON c.teams_id = i.teams_id WHERE i.generation = 1 "
        "GROUP BY 1, 2"))
    conn.close()
    read: dict[tuple[str, str], int] = {}
    threaded, reactions, kinds = 0, 0, set()
    for path in doc["bundles"]:
        for kind, conversations in _read(path, tmp_path).items():
            for name, messages in conversations.items():
                kinds.add(kind)
                read[(Path(path).name, name)] = len(messages)
                for message in messages:
                    raw = message._message
                    assert raw["ts"] and (raw.get("user") or raw.get("subtype") == "bot_message")
                    threaded += bool(message.is_thread_msg)
                    reactions += len(raw.get("reactions") or [])
    assert read == carried                     # every carried post, in its ZIP and conversation
    assert sum(read.values()) == doc["messages"]
    assert kinds == {"channels", "groups", "dms", "mpims"}
    assert threaded > 1000 and reactions > 500           # the demo's threads and reactions


def test_private_channel_and_chat_content_is_never_in_a_public_channel(bundled):
    """Every message under a channels.json conversation is, by its ts, a post of a standard
    Teams channel; private channels and chats are only in groups, DMs and group DMs."""
    plan, doc = bundled["plan"], bundled["doc"]
    standard = {c["teams_channel_id"] for c in plan["channels"]
                if not c["is_private"] and not c["team_id"].startswith("chats:")}
    conn = sqlite3.connect(bundled["first"] / "state.db")
    where = {(name, ts): (teams_id, kind) for name, ts, teams_id, kind in conn.execute(
        "SELECT c.name, i.ts, i.teams_id, c.kind FROM bundle_items i "
        "JOIN bundle_conversations c ON c.teams_id = i.teams_id")}
    conn.close()
    seen = 0
    for path in doc["bundles"]:
        with zipfile.ZipFile(path) as archive:
            public = {c["name"] for c in json.loads(archive.read("channels.json"))}
            for entry in archive.namelist():
                folder = entry.split("/")[0]
                if "/" not in entry or folder not in public:
                    continue
                for message in json.loads(archive.read(entry)):
                    teams_id, kind = where[(folder, message["ts"])]
                    assert kind == "channel" and teams_id in standard, (entry, message["ts"])
                    seen += 1
    assert seen > 1000


def test_conversation_lists_hold_each_kind_where_slack_expects_it(bundled):
    plan, doc = bundled["plan"], bundled["doc"]
    public = {c["slack_name"] for c in plan["channels"] if not c["is_private"]}
    private = {c["slack_name"] for c in plan["channels"] if c["is_private"]}
    for path in doc["bundles"]:
        with zipfile.ZipFile(path) as archive:
            channels = json.loads(archive.read("channels.json"))
            groups = json.loads(archive.read("groups.json"))
            dms = json.loads(archive.read("dms.json"))
            mpims = json.loads(archive.read("mpims.json"))
        assert {c["name"] for c in channels} <= public
        assert {c["name"] for c in groups} <= private      # private channels, big group chats
        assert all(len(d["members"]) == 2 for d in dms)
        assert all(3 <= len(m["members"]) <= 9 and m["name"].startswith("mpdm-") for m in mpims)


def test_the_same_store_gives_byte_identical_zips(bundled):
    one = sorted(Path(p).name for p in bundled["doc"]["bundles"])
    two = sorted(Path(p).name for p in bundled["again"]["bundles"])
    assert one == two
    for name in one:
        assert (bundled["first"] / "bundle" / name).read_bytes() == \
            (bundled["second"] / "bundle" / name).read_bytes(), name


def test_a_later_bundle_carries_only_what_is_new(bundled, tmp_path):
    delta = bundled["delta"]
    assert delta["generation"] == 2 and delta["messages"] == 1
    assert all(Path(p).name.startswith("slack-import-02-") for p in delta["bundles"])
    (messages,) = [m for conv in _read(delta["bundles"][0], tmp_path)["mpims"].values() for m in conv]
    assert "after the first bundle" in messages._message["text"]


def test_max_mb_cuts_a_period_into_parts_each_with_its_own_lists(bundled):
    parts = [Path(p) for p in bundled["parts"]["bundles"]]
    assert any(p.stem.endswith("-part2") for p in parts)
    for path in parts:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            assert {"users.json", "channels.json", "groups.json", "dms.json", "mpims.json"} <= set(names)
            folders = {n.split("/")[0] for n in names if "/" in n}
            listed = {c.get("name") or c["id"] for f in ("channels.json", "groups.json", "dms.json",
                                                         "mpims.json") for c in json.loads(archive.read(f))}
            assert folders == listed              # each ZIP lists exactly what it holds


def test_bundling_nothing_exported_says_so(tmp_path):
    with start_sandbox(rate_scale=50) as sandbox:
        env = {**sandbox.env(), "MIGRATE_WORKDIR": str(tmp_path)}
        result = run_migrate("bundle", "--no-export", env=env)
    assert result.returncode == 2
    assert "nothing exported yet" in result.stderr and "Traceback" not in result.stderr
