"""HTTP side of the Slack emulator: parses requests the way Slack accepts them and sends replies.

Routes (the emulator object is `self.server.app`):
    GET|POST /api/<method>            Web API; args from the query string and a form-urlencoded,
                                      JSON or multipart body (slack_sdk sends all three)
    POST     /upload/v1/<token>       the upload URL of files.getUploadURLExternal: raw bytes
                                      (slack_sdk) or a multipart form with one file part
    GET      /files/<id>/<name>       url_private of an uploaded file (Bearer token)
    GET      /_control/state          state() as JSON (no auth: test control only); with
                                      ?team_id=T… one workspace of an org (slack_org.py)
    GET      /_control/counters       counters(), also ?team_id=T…
    POST     /_control/counters/reset
    POST     /_control/faults         {"seed": 1, "rates": {"http_500": 0.1}, "only": ["chat.postMessage"]}
    POST     /_control/import         a Slack export ZIP as the body (slack_import.py): 200 with
                                      counts, 400 invalid_archive, 409 import_in_progress,
                                      429 import_rate_limited
"""

from __future__ import annotations

import json
from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from migrate.sandbox.faults import FaultPlan
from migrate.sandbox.server import JsonHandler


class BadRequest(Exception):
    """A body Slack could not read: answered as `{"ok": false, "error": code}`."""


def _multipart(content_type: str, body: bytes) -> list[Message]:
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + body)
    if not message.is_multipart():
        raise BadRequest("invalid_form_data")
    return list(message.iter_parts())


def parse_args(query: str, content_type: str, body: bytes) -> dict[str, Any]:
    """Arguments from the query string and the body; body values win, as in a merged form."""
    args: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
    kind = content_type.split(";", 1)[0].strip().lower()
    if not body:
        return args
    if kind == "application/json":
        try:
            data = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise BadRequest("invalid_json") from None
        if not isinstance(data, dict):
            raise BadRequest("invalid_json")
        args.update(data)
    elif kind == "multipart/form-data":
        for part in _multipart(content_type, body):
            name = part.get_param("name", header="content-disposition")
            if not name:
                continue
            payload = part.get_payload(decode=True) or b""
            # File parts stay bytes; other fields are text.
            args[name] = payload if part.get_filename() else payload.decode("utf-8", "replace")
    else:  # application/x-www-form-urlencoded, or no content type at all
        try:
            args.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        except UnicodeDecodeError:
            raise BadRequest("invalid_form_data") from None
    return args


def upload_bytes(content_type: str, body: bytes) -> bytes:
    """The file in an upload POST: the raw body, or the (first) file part of a multipart form."""
    if content_type.split(";", 1)[0].strip().lower() != "multipart/form-data":
        return body
    parts = _multipart(content_type, body)
    chosen = next((p for p in parts if p.get_filename()), parts[0] if parts else None)
    return (chosen.get_payload(decode=True) or b"") if chosen is not None else b""


def bearer(headers: Any) -> str | None:
    value = headers.get("Authorization") or ""
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


class SlackHandler(JsonHandler):
    server_version = "migrate-sandbox-slack/1"

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._route()

    def do_POST(self) -> None:  # noqa: N802
        self._route()

    def _route(self) -> None:
        body = self.read_body()  # always read, so a kept-alive connection stays in sync
        url = urlsplit(self.path)
        path = url.path
        content_type = self.headers.get("Content-Type") or ""
        app = self.server.app
        if path.startswith("/api/"):
            try:
                args = parse_args(url.query, content_type, body)
            except BadRequest as exc:
                self.send_json(200, {"ok": False, "error": str(exc)})
                return
            token = bearer(self.headers) or _text(args.pop("token", None))
            self._send(app.call(unquote(path[len("/api/"):]).strip("/"), args, token))
        elif path.startswith("/upload/v1/") and self.command == "POST":
            try:
                data = upload_bytes(content_type, body)
            except BadRequest:
                self.send_bytes(400, b"invalid multipart body", "text/plain")
                return
            self._send(app.upload(path[len("/upload/v1/"):], data))
        elif path.startswith("/files/") and self.command == "GET":
            file_id = path[len("/files/"):].split("/", 1)[0]
            self._send(app.download(file_id, bearer(self.headers)))
        elif path.startswith("/_control/"):
            self._control(path[len("/_control/"):], body, dict(parse_qsl(url.query)))
        else:
            self.send_bytes(404, b"Not Found", "text/plain")

    def _send(self, reply: Any) -> None:
        if reply.action in ("reset", "drop"):
            # "reset": nothing was done; "drop": the work is done and stored. Either way the
            # client gets no answer, only a reset connection.
            self.reset_connection()
            return
        self.send_bytes(reply.status, reply.body, reply.content_type, reply.headers)

    def _control(self, what: str, body: bytes, query: dict[str, str]) -> None:
        app = self.server.app
        team_id = query.get("team_id") or None
        if what in ("state", "counters") and self.command == "GET":
            try:
                self.send_json(200, app.state(team_id) if what == "state" else app.counters(team_id))
            except (KeyError, ValueError) as exc:  # an unknown team, or several and none named
                self.send_json(404, {"ok": False, "error": str(exc)})
        elif what == "counters/reset" and self.command == "POST":
            app.reset_counters()
            self.send_json(200, {"ok": True})
        elif what == "import" and self.command == "POST":
            self._send(app.import_reply(body))
        elif what == "faults" and self.command == "POST":
            try:
                spec = json.loads(body or b"{}")
                plan = FaultPlan(rates=dict(spec.get("rates", {})), only=tuple(spec.get("only", ())))
                app.configure_faults(int(spec.get("seed", 0)), plan)
            except (ValueError, TypeError, AttributeError) as exc:
                self.send_json(400, {"ok": False, "error": str(exc)})
                return
            self.send_json(200, {"ok": True})
        else:
            self.send_bytes(404, b"Not Found", "text/plain")


def _text(value: Any) -> str | None:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value if isinstance(value, str) else None
