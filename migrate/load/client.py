"""A narrow wrapper over slack_sdk's WebClient: only the methods the importer uses, and every
failure translated into one of our exceptions at this boundary (Slack's error codes are on
each method's page, https://docs.slack.dev/reference/methods/<name>; slack_sdk raises
SlackApiError for them).

- `SlackRateLimited`: 429 / `ratelimited` / `rate_limited`. Never waited here: the scheduler
  owns every wait, so it is raised with the Retry-After for the scheduler to honour.
- `SlackRefused`: Slack answered `ok: false` with a definite error; nothing happened.
- `SlackUnavailable`: a transient failure of a call that is safe to repeat (reads, idempotent
  writes), still failing after tenacity's retries.
- `SlackOutcomeUnknown`: a non-idempotent write (a post, a file share, a channel creation)
  whose answer never came or was a server error — it may have landed (Slack has no idempotency
  key: https://github.com/slackapi/slack-api-specs/issues/10). It is never re-sent here; the
  importer looks for it in the channel first (by the Teams id in the message metadata).
- Auth problems (`invalid_auth`, `token_revoked`, `missing_scope`, …) stop the run: AuthError
  and PermissionMissing (exit 3).

slack_sdk's own retry handlers are switched off (`retry_handlers=[]`): its default
ConnectionErrorRetryHandler re-sends after a `RemoteDisconnected`, which can follow a post
Slack already stored, which would post it twice (slack_sdk/http_retry/builtin_handlers.py in
https://github.com/slackapi/python-slack-sdk).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from typing import Any

import requests
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from migrate.config import SlackSettings
from migrate.errors import (
    EXIT_ITEMS_FAILED,
    AuthError,
    ConfigError,
    MigrateError,
    PermissionMissing,
    ServiceUnreachable,
    TransientError,
)
from migrate.retry import RetryPolicy, retry_after_of

Json = dict[str, Any]

# Codes about the token itself: the run stops (exit 3). Not `no_permission`: Slack answers it
# for one channel (conversations.invite documents it), which is that channel's failure.
AUTH_ERRORS = {"not_authed", "invalid_auth", "account_inactive", "token_revoked", "token_expired",
               "not_allowed_token_type", "ekm_access_denied"}
RATE_ERRORS = {"ratelimited", "rate_limited"}
# "some aspect may have succeeded" (https://docs.slack.dev/reference/methods/chat.postMessage):
# ambiguous for writes.
SERVER_ERRORS = {"internal_error", "fatal_error", "service_unavailable", "request_timeout"}
# Repeatable calls: 5 tries, jittered backoff up to 30 s (retry.py, shared with Graph's client).
POLICY = RetryPolicy(attempts=5, backoff_cap=30.0)
ATTEMPTS = POLICY.attempts
# Reachability check: the same policy with a few quick tries, then one line instead of a long
# verdict.
REACHABILITY = POLICY.replace(attempts=3, backoff_cap=1.0)


class SlackError(MigrateError):
    """A Slack call that did not do what was asked. In the MigrateError tree, so one that
    escapes the importer is still one line with an exit code, never "internal error"."""

    exit_code = EXIT_ITEMS_FAILED   # the item stays to do; the next run tries it again

    def __init__(self, method: str, code: str, detail: str = "", data: Json | None = None) -> None:
        super().__init__(f"Slack {method}: {code}{f' ({detail})' if detail else ''}")
        self.method = method
        self.code = code
        self.data = data or {}


class SlackRefused(SlackError):
    """Slack said no (ok: false with a definite error code); nothing was done."""


class SlackRateLimited(SlackError):
    def __init__(self, method: str, retry_after: float | None) -> None:
        super().__init__(method, "ratelimited",
                         f"Retry-After {retry_after:g}s" if retry_after is not None else "")
        self.retry_after = retry_after


class SlackUnavailable(SlackError, TransientError):
    """Transient failure of a repeatable call, after retries."""


class SlackOutcomeUnknown(SlackError, TransientError):
    """A write that may or may not have landed (the next run looks it up before re-sending)."""


class _Transient(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class SlackClient:
    def __init__(self, settings: SlackSettings, *, web: WebClient | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if web is None and not settings.token:
            # Not set at all is configuration (exit 2), not a refused credential (3).
            raise ConfigError("MIGRATE_SLACK_TOKEN is not set",
                              hint="export the bot token (xoxb-…) of the Slack app installed in "
                              "the target workspace; `migrate doctor` checks it")
        self.url = settings.url
        self.timeout = max(1, math.ceil(settings.timeout))
        # An org-level token acts in the workspace whose id goes with every call (slack_sdk's
        # `team_id`: "added to every call (org-wide apps)").
        self.web = web or WebClient(token=settings.token or None, base_url=settings.url,
                                    timeout=self.timeout, retry_handlers=[],
                                    team_id=settings.team_id or None)
        self.web.retry_handlers = []
        self.sleep = sleep
        self.http = requests.Session()

    # ------------------------------------------------------------------ plumbing

    def _once(self, method: str, args: Json, *, write: bool, form: bool) -> Json:
        try:
            if write and not form:
                response = self.web.api_call(method, json=args)
            else:
                response = self.web.api_call(method, http_verb="POST" if write else "GET",
                                             params=args)
            return response.data  # type: ignore[return-value]
        except SlackApiError as exc:
            response = exc.response
            status = getattr(response, "status_code", 200) or 200
            data = response.data if isinstance(response.data, dict) else {}
            code = str(data.get("error") or f"http_{status}")
            if status == 429 or code in RATE_ERRORS:
                raise SlackRateLimited(method, retry_after_of(response.headers)) from None
            if code in AUTH_ERRORS:
                raise AuthError(f"Slack {method} answered {code}",
                                hint="check MIGRATE_SLACK_TOKEN (the bot token of the installed "
                                "app) and run `migrate doctor`") from None
            if code == "missing_scope":
                raise PermissionMissing(f"Slack {method} needs the scope "
                                        f"{data.get('needed') or '(not given)'}",
                                        hint="add it to the app's bot token scopes and reinstall "
                                        "the app") from None
            if status >= 500 or code in SERVER_ERRORS or code.startswith("Received a response"):
                raise _Transient(f"HTTP {status} {code}"[:120]) from None
            raise SlackRefused(method, code, data=data) from None
        except (OSError, SlackClientError) as exc:  # resets, timeouts, URLError
            reason = getattr(exc, "reason", None)
            raise _Transient(f"{type(exc).__name__}: {reason}"[:120] if reason is not None
                             else type(exc).__name__) from None

    def call(self, method: str, args: Json, *, write: bool = False, repeatable: bool = True,
             form: bool = False) -> Json:
        """One Web API call. Reads and idempotent writes are retried on transient failures;
        a non-repeatable write (`repeatable=False`) whose outcome is unknown raises
        SlackOutcomeUnknown at once."""
        if write and not repeatable:
            try:
                return self._once(method, args, write=True, form=form)
            except _Transient as exc:
                raise SlackOutcomeUnknown(method, exc.code) from None
        try:
            return POLICY.retrying(_Transient, sleep=self.sleep)(self._once, method, args,
                                                                  write=write, form=form)
        except _Transient as exc:
            raise SlackUnavailable(method, exc.code, f"after {ATTEMPTS} attempts") from None

    # ------------------------------------------------------------------ methods we use

    def auth_test(self) -> Json:
        """Who the token is (team, url, user_id); {} where the service has no auth.test
        (unknown_method: the Web API contract this tool is held to does not list it). The
        bot's own channels are then not recognised after an unanswered create."""
        try:
            return self.call("auth.test", {})
        except SlackRefused as exc:
            return _without_auth_test(exc)

    def ensure_reachable(self) -> Json:
        """auth.test, a few quick tries: Slack refused, unknown, silent or failing with 5xx
        raises ServiceUnreachable (one line, exit 2) instead of every later call retrying its
        way to a misleading verdict. A bad token is still AuthError (exit 3)."""
        try:
            return REACHABILITY.retrying(_Transient, sleep=self.sleep)(
                self._once, "auth.test", {}, write=False, form=False)
        except _Transient as exc:
            cause = exc.code
        except SlackRefused as exc:
            return _without_auth_test(exc)     # a service without auth.test: it is there
        raise ServiceUnreachable(f"Slack is unreachable at {self.url} ({cause})",
                                 hint="check MIGRATE_SLACK_URL, the network or proxy, and "
                                 "status.slack.com; nothing was checked or changed")

    def create_channel(self, name: str, is_private: bool) -> Json:
        return self.call("conversations.create", {"name": name, "is_private": is_private},
                         write=True, repeatable=False)["channel"]

    def rename_channel(self, channel: str, name: str) -> Json:
        return self.call("conversations.rename", {"channel": channel, "name": name},
                         write=True)["channel"]

    def join(self, channel: str) -> Json:
        return self.call("conversations.join", {"channel": channel}, write=True)

    def invite(self, channel: str, users: list[str]) -> Json:
        return self.call("conversations.invite", {"channel": channel, "users": ",".join(users),
                                                  "force": True}, write=True)

    def set_purpose(self, channel: str, purpose: str) -> Json:
        return self.call("conversations.setPurpose", {"channel": channel, "purpose": purpose},
                         write=True)

    def set_topic(self, channel: str, topic: str) -> Json:
        return self.call("conversations.setTopic", {"channel": channel, "topic": topic}, write=True)

    def archive(self, channel: str) -> Json:
        return self.call("conversations.archive", {"channel": channel}, write=True)

    def list_channels(self, cursor: str = "") -> Json:
        args: Json = {"types": "public_channel,private_channel", "exclude_archived": False,
                      "limit": 200}
        if cursor:
            args["cursor"] = cursor
        return self.call("conversations.list", args)

    def members(self, channel: str, cursor: str = "") -> Json:
        args: Json = {"channel": channel, "limit": 200}
        if cursor:
            args["cursor"] = cursor
        return self.call("conversations.members", args)

    def history(self, channel: str, *, oldest: str = "0", cursor: str = "",
                limit: int = 200) -> Json:
        args: Json = {"channel": channel, "oldest": oldest, "inclusive": True, "limit": limit,
                      "include_all_metadata": True}
        if cursor:
            args["cursor"] = cursor
        return self.call("conversations.history", args)

    def replies(self, channel: str, ts: str, *, oldest: str = "0", cursor: str = "",
                limit: int = 200) -> Json:
        args: Json = {"channel": channel, "ts": ts, "oldest": oldest, "inclusive": True,
                      "limit": limit, "include_all_metadata": True}
        if cursor:
            args["cursor"] = cursor
        return self.call("conversations.replies", args)

    def post_message(self, channel: str, text: str, *, username: str, icon_url: str | None,
                     metadata: Json, thread_ts: str | None = None) -> Json:
        """Post as the original author (chat:write.customize), unfurls off, names not linked:
        migrated history notifies no one and shows no link previews of old links."""
        args: Json = {"channel": channel, "text": text, "username": username, "metadata": metadata,
                      "unfurl_links": False, "unfurl_media": False, "link_names": False,
                      "mrkdwn": True}
        if icon_url:
            args["icon_url"] = icon_url
        if thread_ts:
            args["thread_ts"] = thread_ts
        return self.call("chat.postMessage", args, write=True, repeatable=False)

    def get_upload_url(self, filename: str, length: int) -> Json:
        # An upload URL that is never completed stays private to the app: safe to repeat.
        return self.call("files.getUploadURLExternal", {"filename": filename, "length": length},
                         write=True, form=True)

    def upload_bytes(self, url: str, data: bytes) -> None:
        """Step 2 of Slack's upload flow (files.getUploadURLExternal → POST the bytes →
        files.completeUploadExternal;
        https://docs.slack.dev/reference/methods/files.getUploadURLExternal): POST the bytes to
        the upload URL (no token: the URL is the credential). Repeatable until the file is
        completed."""
        def once() -> None:
            try:
                answer = self.http.post(url, data=data, timeout=max(self.timeout, 120),
                                        headers={"Content-Type": "application/octet-stream"})
            except requests.RequestException as exc:
                raise _Transient(type(exc).__name__) from None
            if answer.status_code >= 500:
                raise _Transient(f"HTTP {answer.status_code}")
            if answer.status_code != 200:
                raise SlackRefused("upload", f"http_{answer.status_code}")

        try:
            POLICY.retrying(_Transient, sleep=self.sleep)(once)
        except _Transient as exc:
            raise SlackUnavailable("upload", exc.code, f"after {ATTEMPTS} attempts") from None

    def complete_upload(self, file_id: str, title: str, channel: str, thread_ts: str | None,
                        *, username: str | None = None) -> Json:
        args: Json = {"files": json.dumps([{"id": file_id, "title": title}]), "channel_id": channel}
        if thread_ts:
            args["thread_ts"] = thread_ts
        if username:
            args["username"] = username
        return self.call("files.completeUploadExternal", args, write=True, repeatable=False,
                         form=True)

    def update_message(self, channel: str, ts: str, text: str) -> Json:
        return self.call("chat.update", {"channel": channel, "ts": ts, "text": text,
                                         "link_names": False}, write=True)

    def delete_message(self, channel: str, ts: str) -> Json:
        return self.call("chat.delete", {"channel": channel, "ts": ts}, write=True)


def _without_auth_test(exc: SlackRefused) -> Json:
    """auth.test's answer where the service has none (unknown_method): nothing known of the
    token; any other refusal is raised again."""
    if exc.code != "unknown_method":
        raise exc
    return {}
