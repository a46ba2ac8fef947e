"""The setup steps of a channel lane: create or reuse the channel (a taken name gets the next
suffix; an unanswered create is resolved by name and creator), rename it, set purpose and
topic, invite the members, verify and archive it last. A part of ChannelLane (lane.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from migrate.load.client import SlackOutcomeUnknown, SlackRefused, SlackUnavailable
from migrate.load.directory import remember_channel
from migrate.load.lane_common import CHANNEL_CODES, GUEST_CODES, INVITE_BATCH, Halt, Item
from migrate.store import ledger
from migrate.store.keys import MemberKey
from migrate.transform.channels import MAX_NAME


class SetupSteps:
    def _do_channel(self, item: Item) -> None:
        key = self._key("channel")
        store, imp, cp = self.imp.store, self.imp, self.cp
        if cp.action == "reuse" and cp.slack_channel_id:
            if cp.reason and cp.reason.startswith("merged") and not cp.is_private:
                try:  # the bot posts only where it is a member (no chat:write.public needed)
                    self._call("conversations.join", lambda: imp.client.join(cp.slack_channel_id))
                except (SlackRefused, SlackUnavailable) as exc:
                    self._fail(key, "channel", f"cannot join #{cp.slack_name}: {exc.code}")
            ledger.done(store, key, kind="channel", teams_id=cp.teams_channel_id,
                        slack_channel=cp.slack_channel_id, reason=f"reused #{cp.slack_name}",
                        run_id=imp.run_id)
            self.slack_id = cp.slack_channel_id
            imp.count("channel", "reused")
            return
        row = ledger.get(store, key)
        name = cp.slack_name or ""
        if row is not None and row["state"] in ("in_doubt", "intent"):
            adopted = self._adopt(name)
            if adopted:
                return
        for _attempt in range(1, 50):
            def create(n: str = name) -> Any:
                ledger.intent(store, key, "channel", teams_id=cp.teams_channel_id, run_id=imp.run_id)
                return imp.client.create_channel(n, cp.is_private)

            try:
                channel = self._call("conversations.create", create)
            except SlackOutcomeUnknown as exc:
                ledger.in_doubt(store, key, f"no answer to conversations.create ({exc.code})")
                if self._adopt(name):
                    return
                continue
            except SlackUnavailable as exc:
                self._fail(key, "channel", f"Slack unavailable ({exc.code})")
            except SlackRefused as exc:
                if exc.code != "name_taken":
                    self._fail(key, "channel", f"Slack refused #{name}: {exc.code}")
                # Someone took the name since the plan (DESIGN §4.4 race): next free suffix.
                name = self._next_name(cp.slack_name or name)
                continue
            imp.claim_name(channel["name"])
            remember_channel(store, channel)
            reason = f"created #{channel['name']}"
            if channel["name"] != cp.slack_name:
                reason += f" (#{cp.slack_name} was taken when the run reached it)"
            ledger.done(store, key, slack_channel=channel["id"], reason=reason)
            self.slack_id = channel["id"]
            imp.count("channel", "created")
            return
        self._fail(key, "channel", f"no free name for #{cp.slack_name}")

    def _next_name(self, base: str) -> str:
        self.imp.workspace_channel(base, refresh=True)
        for k in range(2, 1000):
            suffix = f"-{k}"
            candidate = base[:MAX_NAME - len(suffix)].rstrip("-") + suffix
            if self.imp.claim_name(candidate):
                return candidate
        return base

    def _adopt(self, name: str) -> bool:
        """An earlier create may have landed: a channel of this name made by our bot is ours."""
        try:
            found = self.imp.workspace_channel(name, refresh=True)
            bot = self.imp.bot_user()
        except SlackUnavailable as exc:
            self._still_in_doubt(self._key("channel"), "channel", f"cannot check #{name} ({exc.code})")
        if found and bot and found.get("creator") == bot:
            ledger.done(self.imp.store, self._key("channel"), slack_channel=found["id"],
                        reason=f"created #{name} (found after an unanswered create)")
            self.slack_id = found["id"]
            self.imp.count("channel", "found")
            return True
        return False

    def _do_rename(self, item: Item) -> None:
        """The Teams channel (or its team) was renamed since an earlier run created it, and
        MIGRATE_RENAMED_CHANNELS=rename: the Slack channel follows (next free suffix if taken)."""
        key, wanted = self._key("rename"), self.cp.rename_to or ""
        name = wanted
        for _attempt in range(50):
            try:
                channel = self._call("conversations.rename", lambda n=name: self.imp.client.rename_channel(
                    self.slack_id, n))
            except SlackRefused as exc:
                if exc.code == "name_taken":
                    name = self._next_name(wanted)
                    continue
                self._skip(key, "rename", f"Slack refused to rename #{self.cp.slack_name}: {exc.code}")
                return
            except SlackUnavailable as exc:
                self._fail(key, "rename", f"Slack unavailable ({exc.code})", halt=False)
                return
            remember_channel(self.imp.store, channel)
            ledger.done(self.imp.store, key, kind="rename", slack_channel=self.slack_id,
                        teams_id=self.cp.teams_channel_id,
                        reason=f"renamed #{self.cp.slack_name} to #{channel['name']}")
            self.label = channel["name"]
            self.imp.count("channel", "renamed")
            return
        self._skip(key, "rename", f"no free name for #{wanted}")

    # ------------------------------------------------------------------ purpose, topic

    def _set_text(self, kind: str, value: str, fn: Callable[[], Any], method: str) -> None:
        key = self._key(kind)
        try:
            self._call(method, fn)
        except SlackRefused as exc:
            self._skip(key, kind, f"Slack refused the {kind}: {exc.code}")
            return
        except SlackUnavailable as exc:
            self._fail(key, kind, f"Slack unavailable ({exc.code})", halt=False)
            return
        ledger.done(self.imp.store, key, kind=kind, teams_id=self.cp.teams_channel_id,
                    slack_channel=self.slack_id, run_id=self.imp.run_id)
        self.imp.count(kind, "set")

    def _do_purpose(self, item: Item) -> None:
        value = self.cp.purpose or ""
        self._set_text("purpose", value, lambda: self.imp.client.set_purpose(self.slack_id, value),
                       "conversations.setPurpose")

    def _do_topic(self, item: Item) -> None:
        value = self.cp.topic or ""
        self._set_text("topic", value, lambda: self.imp.client.set_topic(self.slack_id, value),
                       "conversations.setTopic")

    # ------------------------------------------------------------------ invites, archive

    def _do_invite(self, item: Item) -> None:
        """Mapped members in batches of ≤ 100 with `force` (valid ones invited, the others
        listed in `errors`). A refused call invites nobody (all or nothing, reference §4.3):
        the users it names are settled, the rest go again — one by one when Slack names no
        one — so nobody is recorded as a member who was not invited."""
        store = self.imp.store
        channel = self.cp.teams_channel_id
        settled = {MemberKey.parse(k).user for k, row in
                   ledger.with_prefix(store, MemberKey.prefix(channel)).items()
                   if row["state"] in ("done", "skipped")}
        wanted = [u for u in self.cp.invite if u not in settled]
        queue = [wanted[i:i + INVITE_BATCH] for i in range(0, len(wanted), INVITE_BATCH)]
        while queue:
            batch = queue.pop(0)
            try:
                answer = self._call("conversations.invite",
                                    lambda b=batch: self.imp.client.invite(self.slack_id, b))
            except SlackRefused as exc:
                if exc.code in CHANNEL_CODES:  # about the channel, not the people: retry later
                    for user in [u for b in [batch, *queue] for u in b]:
                        self._fail(MemberKey(channel, user).text, "member",
                                   f"Slack refused the invite: {exc.code}", halt=False)
                    return
                named = {e.get("user"): e.get("error") or exc.code for e in exc.data.get("errors") or []
                         if e.get("user") in batch}
                if not named and len(batch) == 1:
                    named = {batch[0]: exc.code}
                rest = [u for u in batch if u not in named]
                if named:
                    self._settle_members(named, [])
                    if rest:
                        queue.insert(0, rest)
                else:
                    queue[:0] = [[u] for u in rest]      # Slack named no one: try each alone
                continue
            except SlackUnavailable as exc:
                for user in batch:
                    self._fail(MemberKey(channel, user).text, "member",
                               f"Slack unavailable ({exc.code})", halt=False)
                continue
            refused = {e.get("user"): e.get("error") or "refused" for e in answer.get("errors") or []}
            self._settle_members(refused, [u for u in batch if u not in refused])

    def _settle_members(self, refused: dict[str, str], invited: list[str]) -> None:
        store, channel = self.imp.store, self.cp.teams_channel_id

        def key(user: str) -> str:
            return MemberKey(channel, user).text

        with store.transaction():
            for user in invited:
                ledger.done(store, key(user), kind="member", slack_channel=self.slack_id,
                            teams_id=self.cp.teams_channel_id)
                self.imp.count("member", "invited")
            for user, code in refused.items():
                if code == "already_in_channel":
                    ledger.done(store, key(user), kind="member", slack_channel=self.slack_id,
                                teams_id=self.cp.teams_channel_id)
                    self.imp.count("member", "already")
                elif code in GUEST_CODES:
                    self._skip(key(user), "member", f"guest account ({code}): an admin "
                               "must add guests to channels")
                else:
                    self._skip(key(user), "member", f"Slack refused the invite: {code}")

    def _do_archive(self, item: Item) -> None:
        key = self._key("archive")
        if self.trouble:
            raise Halt("not archived yet: some of its items failed (the next run retries)")
        self._verify_before_archive()
        try:
            self._call("conversations.archive", lambda: self.imp.client.archive(self.slack_id))
        except SlackRefused as exc:
            if exc.code != "already_archived":
                self._fail(key, "archive", f"Slack refused to archive: {exc.code}", halt=False)
                return
        except SlackUnavailable as exc:
            self._fail(key, "archive", f"Slack unavailable ({exc.code})", halt=False)
            return
        ledger.done(self.imp.store, key, kind="archive", slack_channel=self.slack_id,
                    teams_id=self.cp.teams_channel_id)
        self.imp.count("channel", "archived")


    def _verify_before_archive(self) -> None:
        """Archiving removes the bot, so `migrate verify` could never read this channel back:
        check it now (same comparison) and keep the verdict in the ledger."""
        from migrate.verify.check import Verifier

        verifier = Verifier(self.imp.store, self.imp.client, self.imp.scheduler)
        try:
            check = verifier.check_channel(self.cp, self.slack_id, self._posts(),
                                           self.imp.uploads_by_channel.get(self.cp.teams_channel_id, []))
        except (SlackRefused, SlackUnavailable) as exc:
            raise Halt(f"not archived yet: cannot verify it first ({exc.code})") from None
        if check.problems or check.unverifiable:
            self.trouble = True
            raise Halt(f"not archived: verification found {check.problems} problems "
                        f"({check.unverifiable or 'see migrate verify'})")
        ledger.done(self.imp.store, self._key("verified"), kind="verified",
                    slack_channel=self.slack_id, teams_id=self.cp.teams_channel_id,
                    reason=f"verified before archiving: {check.found} of {check.expected} posts")


