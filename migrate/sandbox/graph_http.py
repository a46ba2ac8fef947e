"""The Graph emulator's HTTP handler: /v1.0 requests (bearer auth, seeded faults, $batch),
the pre-authenticated /_download/… URLs that file contents redirect to, and /_control/….
"""

from __future__ import annotations

import json
import re
import time
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urlsplit

from migrate.sandbox.graph_batch import run_batch
from migrate.sandbox.graph_control import control
from migrate.sandbox.graph_odata import GraphError, bad_request, error_body
from migrate.sandbox.graph_resources import Call, Reply
from migrate.sandbox.graph_routes import execute, make_call, throttled_reply
from migrate.sandbox.server import JsonHandler

if TYPE_CHECKING:
    from migrate.sandbox.graph_emulator import GraphEmulator

JSON_TYPE = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"


class GraphHandler(JsonHandler):
    def do_GET(self) -> None:  # noqa: N802
        self._dispatch()

    do_POST = do_PATCH = do_DELETE = do_PUT = do_HEAD = do_GET  # noqa: N815

    @property
    def app(self) -> GraphEmulator:
        return self.server.app  # type: ignore[attr-defined]

    def _dispatch(self) -> None:
        path = urlsplit(self.path).path
        if path.startswith("/_control/"):
            self._control(path)
        elif path.startswith("/_download/"):
            self._graph_like(path, self._download)
        elif path == "/v1.0" or path.startswith("/v1.0/"):
            self._graph_like(path, self._graph)
        else:
            self.send_json(404, {"error": {"code": "NotFound", "message": f"No such path {path}"}})

    def _graph_like(self, path: str, serve: Any) -> None:
        """Count, draw a fault (before any routing: a 500, 503 or 504 can answer any Graph request,
        https://learn.microsoft.com/graph/errors) and serve."""
        app = self.app
        app.count("requests")
        if app.latency:
            time.sleep(app.latency)   # the service's round trip (GraphEmulator.latency)
        self._drop_answer = False
        self._reshape: str | None = None
        self._request_id = str(uuid.uuid4())
        self._client_request_id = self.headers.get("client-request-id") or self._request_id
        fault = app.draw_fault(path)
        if fault == "reset":
            self.read_body()
            self.reset_connection()
            return
        if fault in ("http_500", "http_503", "http_504", "429_no_retry_after"):
            self.read_body()
            self._send(self._fault_reply(fault))
            return
        # drop_after_processing: the work (counting, throttling) is done, the answer is lost
        self._drop_answer = fault == "drop_after_processing"
        # empty_page, repeat_item: a collection's page answered as Graph's paging may answer it
        self._reshape = fault if fault in ("empty_page", "repeat_item") and \
            self.command == "GET" else None
        serve(path)

    def _fault_reply(self, fault: str) -> Reply:
        call = Call(self.command, "", [], {}, {}, "", self._request_id, self._client_request_id)
        # Older reports of Teams APIs answering 429 without Retry-After:
        # https://github.com/microsoftgraph/microsoft-graph-docs/issues/13054
        if fault == "429_no_retry_after":
            self.app.count_status(429)
            return throttled_reply(call, None)
        status, code, message = {
            "http_500": (500, "generalException", "An internal server error occurred."),
            "http_503": (503, "serviceNotAvailable", "The service is temporarily unavailable."),
            "http_504": (504, "gatewayTimeout", "The gateway did not receive a timely response."),
        }[fault]
        self.app.count_status(status)
        return Reply(status, error_body(code, message, self._request_id, self._client_request_id))

    def _send(self, reply: Reply) -> None:
        if self._drop_answer:
            self.reset_connection()
            return
        if self._reshape and reply.status == 200 and isinstance(reply.body, dict) \
                and isinstance(reply.body.get("value"), list) and reply.body["value"]:
            reply = self._reshaped(reply)
        headers = {"request-id": self._request_id, "client-request-id": self._client_request_id,
                   **reply.headers}
        if reply.raw is not None:
            self.send_bytes(reply.status, reply.raw, reply.content_type or "application/octet-stream", headers)
        else:
            body = b"" if reply.body is None else json.dumps(reply.body, ensure_ascii=False).encode()
            self.send_bytes(reply.status, body, JSON_TYPE, headers)

    def _reshaped(self, reply: Reply) -> Reply:
        """A page as Graph's paging allows it to come: empty, with a nextLink that leads on to
        the page asked for (the link differs: it carries a nonce the routes ignore), or with
        one of its items twice (https://learn.microsoft.com/graph/paging)."""
        body = dict(reply.body)
        items = body["value"]
        if self._reshape == "repeat_item":
            body["value"] = [*items, items[0]]
        else:
            again = self.app.url.rsplit("/v1.0", 1)[0] + self.path
            again += ("&" if "?" in again else "?") + f"emptyPage={uuid.uuid4().hex[:8]}"
            body = {**{k: v for k, v in body.items() if k != "value"},
                    "@odata.nextLink": again, "value": []}
        return Reply(reply.status, body, headers=reply.headers)

    def _graph(self, path: str) -> None:
        app = self.app
        body = self.read_body()
        headers = {k.lower(): v for k, v in self.headers.items()}
        target = self.path[len("/v1.0"):] or "/"
        call = make_call(app, self.command, target, headers, self._request_id, self._client_request_id)
        auth = headers.get("authorization", "")
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or token.strip() not in app.tokens:
            message = "Access token is empty." if not auth else "Access token validation failure."
            app.count_status(401)
            self._send(Reply(401, error_body("InvalidAuthenticationToken", message, self._request_id,
                                             self._client_request_id),
                             {"WWW-Authenticate": 'Bearer realm="", error="invalid_token"'}))
            return
        if [s.lower() for s in call.segments] == ["$batch"] and app.json_batching:
            self._send(self._batch(call, body))
            return
        self._send(execute(app, call))

    def _batch(self, call: Call, body: bytes) -> Reply:
        app = self.app
        app.count_route("batch")
        try:
            if call.method != "POST":
                raise GraphError(405, "Request_BadRequest", "The $batch endpoint only accepts POST.")
            try:
                payload = json.loads(body or b"null")
            except json.JSONDecodeError:
                raise bad_request("Invalid batch payload format.") from None
            reply = Reply(200, run_batch(app, payload, self._client_request_id))
        except GraphError as exc:
            reply = Reply(exc.status, error_body(exc.code, exc.message, self._request_id,
                                                 self._client_request_id))
        app.count_status(reply.status)
        return reply

    def _download(self, path: str) -> None:
        """The pre-authenticated URL a /content 302 points to: no Authorization, Range → 206."""
        app = self.app
        payload = app.signer.unsign(path.rsplit("/", 1)[-1])
        item = None
        if payload and payload.get("k") == "download" and payload.get("e", 0) >= time.time():
            item = app.store.drive_items.get((payload["d"], payload["i"]))
        if item is None:
            app.count_status(401)
            self._send(Reply(401, {"error": {"code": "unauthenticated",
                                             "message": "The download URL is invalid or expired."}}))
            return
        data, status, headers = item.data, 200, {"Accept-Ranges": "bytes",
                                                 "Content-Disposition": _content_disposition(item.name)}
        rng = self.headers.get("Range")
        if rng:
            span = _byte_range(rng, len(data))
            if span is None:
                app.count_status(416)
                self._send(Reply(416, raw=b"", headers={"Content-Range": f"bytes */{len(data)}"}))
                return
            start, end = span
            data, status = data[start:end + 1], 206
            headers["Content-Range"] = f"bytes {start}-{end}/{len(item.data)}"
        app.count_status(status)
        app.count("bytesDownloaded", len(data) if self.command != "HEAD" else 0)
        self._send(Reply(status, raw=data, content_type=item.mime_type, headers=headers))

    def _control(self, path: str) -> None:
        """Test hooks, no auth: counters, faults and changes standing in for Teams users
        (graph_control.py)."""
        parts = [unquote(s) for s in path.strip("/").split("/")[1:]]
        method = self.command
        try:
            raw = self.read_body()
            data = json.loads(raw) if raw else {}
            reply = control(self.app, parts, method, data)
            if reply is not None:
                return self.send_json(*reply)
            return self.send_json(404, {"error": {"code": "NotFound",
                                                  "message": f"no control operation {method} {path}"}})
        except KeyError as exc:  # unknown team, channel or message
            return self.send_json(404, {"error": {"code": "NotFound", "message": str(exc.args[0])}})
        except (ValueError, TypeError, AttributeError) as exc:
            return self.send_json(400, {"error": {"code": "BadRequest", "message": str(exc)}})


def _content_disposition(name: str) -> str:
    """An attachment header any file name fits in: HTTP headers are Latin-1, so a name such as
    a Japanese chat file's goes in `filename*` as UTF-8 with an ASCII fallback beside it
    (https://www.rfc-editor.org/rfc/rfc6266#section-4.3)."""
    fallback = "".join(c if " " <= c < "\x7f" and c not in '"\\' else "_" for c in name)
    if fallback == name:
        return f'attachment; filename="{name}"'
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def _byte_range(header: str, size: int) -> tuple[int, int] | None:
    """One `bytes=a-b` / `a-` / `-n` range → inclusive (start, end), or None if unsatisfiable."""
    m = re.fullmatch(r"\s*bytes=(\d*)-(\d*)\s*", header)
    if not m or (not m.group(1) and not m.group(2)) or size == 0:
        return None
    if not m.group(1):
        n = int(m.group(2))
        return (max(0, size - n), size - 1) if n > 0 else None
    start = int(m.group(1))
    end = min(int(m.group(2)), size - 1) if m.group(2) else size - 1
    return (start, end) if start <= end and start < size else None
