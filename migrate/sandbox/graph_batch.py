"""$batch of the Graph emulator (https://learn.microsoft.com/graph/json-batching): the payload
checked, the requests run in dependsOn order through graph_routes.execute (so each is routed,
throttled and counted like a direct call), and their answers gathered.
"""

from __future__ import annotations

import base64
import uuid
from typing import TYPE_CHECKING, Any

from migrate.sandbox.graph_odata import bad_request, error_body
from migrate.sandbox.graph_routes import execute, make_call

if TYPE_CHECKING:
    from migrate.sandbox.graph_emulator import GraphEmulator

Json = dict[str, Any]
BATCH_MAX = 20  # requests per $batch at most (https://learn.microsoft.com/graph/json-batching)


def run_batch(app: GraphEmulator, payload: Any, client_request_id: str) -> Json:
    requests = payload.get("requests") if isinstance(payload, dict) else None
    if not isinstance(requests, list) or not requests:
        raise bad_request("Invalid batch payload format.")
    if len(requests) > BATCH_MAX:
        raise bad_request(f"The number of batch requests ({len(requests)}) exceeds the maximum of {BATCH_MAX}.")
    ids = []
    for item in requests:
        if not isinstance(item, dict) or not all(isinstance(item.get(k), str) for k in ("id", "method", "url")):
            raise bad_request("Each batch request must have string 'id', 'method' and 'url' properties.")
        ids.append(item["id"])
    if len(set(ids)) != len(ids):
        raise bad_request("Batch request ids must be unique.")
    for item in requests:
        deps = item.get("dependsOn") or []
        if not isinstance(deps, list) or any(d not in ids or d == item["id"] for d in deps):
            raise bad_request(f"Request '{item['id']}' has an invalid dependsOn.")
    statuses: dict[str, int] = {}
    responses: list[Json] = []
    pending = list(requests)
    while pending:  # dependencies first; a cycle never becomes ready
        ready = [r for r in pending if all(d in statuses for d in r.get("dependsOn") or [])]
        if not ready:
            raise bad_request("The dependsOn of the batch requests form a cycle.")
        for item in ready:
            pending.remove(item)
            app.count("batchItems")
            statuses[item["id"]], response = _batch_item(app, item, client_request_id, statuses)
            responses.append(response)
    order = {rid: i for i, rid in enumerate(ids)}
    responses.sort(key=lambda r: order[r["id"]])
    return {"responses": responses}


def _batch_item(app: GraphEmulator, item: Json, client_request_id: str,
                statuses: dict[str, int]) -> tuple[int, Json]:
    request_id = str(uuid.uuid4())
    failed = [d for d in item.get("dependsOn") or [] if not 200 <= statuses[d] < 300]
    if failed:
        body = error_body("FailedDependency", f"Dependency {failed[0]} failed.", request_id, client_request_id)
        return 424, {"id": item["id"], "status": 424, "headers": {"Content-Type": "application/json"}, "body": body}
    url = item["url"]
    if url.lower().startswith("http"):  # absolute URLs are tolerated: keep what follows /v1.0
        url = url.split("/v1.0", 1)[-1]
    # only the item's own headers apply to it (Prefer, ConsistencyLevel…), not the envelope's
    inner_headers = {str(k).lower(): str(v) for k, v in (item.get("headers") or {}).items()}
    call = make_call(app, item["method"].upper(), "/" + url.lstrip("/"), inner_headers,
                     request_id, client_request_id)
    fault = _item_fault(app, url)
    if fault is not None:     # one request of the batch fails, the others are answered
        status, code = fault
        body = error_body(code, "The service is temporarily unavailable.", request_id,
                          client_request_id)
        app.count_status(status)
        return status, {"id": item["id"], "status": status,
                        "headers": {"Content-Type": "application/json"}, "body": body}
    reply = execute(app, call)
    out_headers = dict(reply.headers)
    if reply.raw is not None:
        out_headers["Content-Type"] = reply.content_type or "application/octet-stream"
        # non-JSON bodies are base64-encoded inside a JSON batch answer
        body: Any = base64.b64encode(reply.raw).decode("ascii") if reply.raw else None
    else:
        out_headers["Content-Type"] = "application/json"
        body = reply.body
    return reply.status, {"id": item["id"], "status": reply.status, "headers": out_headers, "body": body}


# Faults a request inside a $batch can meet on its own: each item is answered with its own
# status, so one of them may be a 5xx or a 429 while the envelope is a 200
# (https://learn.microsoft.com/graph/json-batching: "individual requests can fail").
_ITEM_FAULTS = {"http_500": (500, "generalException"), "http_503": (503, "serviceNotAvailable"),
                "http_504": (504, "gatewayTimeout"), "429_no_retry_after": (429, "TooManyRequests")}


def _item_fault(app: GraphEmulator, url: str) -> tuple[int, str] | None:
    """A seeded fault for one batch item (FaultPlan targets match "$batch item <url>")."""
    kind = app.draw_fault(f"$batch item {url}")
    return _ITEM_FAULTS.get(kind) if kind is not None else None
