"""Privacy of the bundle over generated tenants: chat content only ever in the conversation of
exactly its members (a DM, a group DM, or a private channel for a big group chat), never in a
public channel's folder."""

from __future__ import annotations

import json
import random
import zipfile

import pytest

from migrate.bundle.slack_export import bundle_id
from migrate.bundle.writer import BundleWriter
from migrate.store import Store

from ..test_plan_chats import _directory, _settings, _tenant


@pytest.mark.parametrize("seed", range(5))
def test_chat_content_goes_only_to_its_members_conversation(tmp_path, seed):
    rng = random.Random(seed)
    with Store.open(tmp_path) as store:
        members = _tenant(store, rng, people=30, chats=20)
        directory, _ = _directory(rng, 30)
        result = BundleWriter(store, _settings(tmp_path), directory).run()
    assert result.bundles and result.messages > 0
    by_folder: dict[str, tuple[str, list[str]]] = {}
    texts: dict[str, list[str]] = {}
    for path in result.bundles:
        with zipfile.ZipFile(path) as archive:
            assert json.loads(archive.read("channels.json")) == []      # no public conversation
            for kind in ("groups", "dms", "mpims"):
                for conv in json.loads(archive.read(f"{kind}.json")):
                    by_folder[conv.get("name") or conv["id"]] = (kind, conv["members"])
            for entry in archive.namelist():
                if "/" in entry:
                    folder = entry.split("/")[0]
                    texts.setdefault(folder, []).extend(
                        m["text"] for m in json.loads(archive.read(entry)))
    checked = 0
    for chat_id, people in members.items():
        expected = sorted(bundle_id("U", p) for p in people)
        holders = [f for f, lines in texts.items() if any(f"secret {chat_id} #" in t for t in lines)]
        assert len(holders) <= 1, (chat_id, holders)
        if not holders:
            continue                              # nothing of it carried (all system events)
        kind, listed = by_folder[holders[0]]
        assert sorted(listed) == expected          # exactly its current members
        assert kind == ("dms" if len(people) == 2 else "mpims" if len(people) <= 9 else "groups")
        checked += 1
    assert checked >= len(members) // 2
