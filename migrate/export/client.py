"""The Graph HTTP client: pacing, paging, retries, error translation, $batch and downloads.

* Every request first reserves a slot in the client-side limiters of the scopes it touches
  (tenant, team, channel; routes.py), so 429s are rare rather than the pacing mechanism.
* Paging follows `@odata.nextLink` exactly as given and resends our headers (they are not
  carried into nextLinks: https://learn.microsoft.com/graph/paging).
* 429 waits `Retry-After` exactly (seconds, decimal seconds, or an HTTP date) and holds the
  scopes it touched; without the header, jittered exponential backoff. 5xx, resets and timeouts
  are retried by tenacity with capped jittered exponential backoff, a bounded number of times.
* Until the host has answered once, a refused connection is tried only `REACHABILITY`
  times: a wrong URL or a closed network is one quick "unreachable" (exit 2), not a minute of
  backoff ending in "items failed".
* 401 refreshes the token once; 403 names the missing permission (exit 3); 404 raises
  GraphNotFound for the caller to record.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests

from migrate.config import GraphSettings
from migrate.errors import (
    MigrateError,
    PermissionMissing,
    ServiceUnreachable,
    TimeBudgetExhausted,
)
from migrate.export.auth import GraphAuth
from migrate.export.errors import (
    FileTooLarge,
    GraphNotFound,
    GraphRequestError,
    GraphUnavailable,
    graph_error,
)
from migrate.export.pacing import Pacer
from migrate.export.routes import Route, classify
from migrate.export.stats import GraphStats
from migrate.retry import RetryPolicy, parse_retry_after

log = logging.getLogger(__name__)

Json = dict[str, Any]
TRANSIENT_STATUS = {500, 502, 503, 504, 509}
# Scopes are paced slightly under the published rate: request spacing jitters on the way to
# the server, and a request that arrives a millisecond early is refused.
SAFETY = 0.95
# How a download breaks off mid-stream; the transfer is then started again.
BROKEN_OFF = (requests.ConnectionError, requests.exceptions.ChunkedEncodingError, requests.Timeout)
# Connections tried before the host has ever answered: a host that refuses three times in a
# row at the start is not there (the same count as the Slack client's reachability check).
REACHABILITY_ATTEMPTS = 3


class _Throttled(Exception):
    def __init__(self, retry_after: float | None) -> None:
        self.retry_after = retry_after


class _Transient(Exception):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class _Pending(Exception):
    """Items of a $batch still unanswered (429 or 5xx), with the Retry-After of each that
    was throttled or failed (None where it gave none)."""

    def __init__(self, retry_afters: list[float | None]) -> None:
        self.retry_afters = retry_afters


def _once(fn: Callable[[], None] | None) -> Callable[[], None] | None:
    """`fn` callable once (the page budget's admit of a $batch, or of its requests one by
    one, before the first answer's body is read); None stays None."""
    if fn is None:
        return None
    waiting: list[Callable[[], None] | None] = [fn]

    def once() -> None:
        call, waiting[0] = waiting[0], None
        if call is not None:
            call()
    return once


def _redact(url: str) -> str:
    """A URL fit for messages: no query string (download URLs carry short-lived grants)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def _error_code(response: requests.Response) -> tuple[str, str]:
    try:
        error = response.json().get("error") or {}
        return str(error.get("code") or response.status_code), str(error.get("message") or "")
    except ValueError:
        return str(response.status_code), response.reason or ""


@dataclass
class Download:
    sha256: str
    size: int
    path: Path
    content_type: str | None


class GraphClient:
    def __init__(self, settings: GraphSettings, auth: GraphAuth, *, pacer: Pacer | None = None,
                 max_attempts: int = 8, backoff_cap: float = 60.0,
                 sleep: Callable[[float], None] = time.sleep,
                 session_factory: Callable[[], requests.Session] = requests.Session) -> None:
        self.base_url = settings.base_url
        self.timeout = settings.timeout
        self.rate_scale = settings.rate_scale
        self.auth = auth
        self.pacer = pacer or Pacer(sleep=sleep)
        self.max_attempts = max_attempts
        self.backoff_cap = backoff_cap
        self.policy = RetryPolicy(attempts=max_attempts, backoff_cap=backoff_cap)
        self.sleep = sleep
        self.stats = GraphStats()
        # time.monotonic() past which no request starts (a run's --max-duration): the export
        # stops with its checkpoints as they are, and the next run resumes from them.
        self.deadline: float | None = None
        self._session_factory = session_factory
        self._local = threading.local()
        self._answered = False          # the host has answered one request (any status)
        self.batching = True            # JSON batching works here (batch_get)
        self._refused = 0               # connections refused before that

    # -- plumbing ------------------------------------------------------------------------

    @property
    def session(self) -> requests.Session:
        """One Session per thread: connection reuse without sharing a pool across threads."""
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = self._session_factory()
        return session

    def url(self, path_or_url: str) -> str:
        if path_or_url.startswith(("http://", "https://")):
            return path_or_url
        return self.base_url + "/" + path_or_url.lstrip("/")

    def _scopes(self, route: Route) -> list[tuple[str, float, float]]:
        return [(key, rate * self.rate_scale * SAFETY, 1.0) for key, rate in route.scopes()]

    def _request(self, method: str, url: str, *, route: Route | None = None,
                 headers: dict[str, str] | None = None, json_body: Any = None,
                 stream: bool = False, priority: float | None = None,
                 admit: Callable[[], None] | None = None) -> requests.Response:
        """Send with pacing and retries; returns a 2xx/3xx response or raises our error.
        `admit`, if given, is called once, when a 2xx answer's headers are in and before its
        body is read (the page budget: a body waiting for its place stays in the socket,
        not in our memory, and the request's round trip is not held against the budget)."""
        url = self.url(url)
        route = route or classify(url)
        refreshed = {"done": False}
        admitted = {"done": admit is None}

        def attempt() -> requests.Response:
            if self.deadline is not None and time.monotonic() >= self.deadline:
                raise TimeBudgetExhausted("--max-duration reached while exporting",
                                          hint="the next run resumes the export where it stopped")
            if priority is None:
                self.pacer.acquire(self._scopes(route))
            else:  # the tenant-wide scope goes to the stream with the most work left
                self.pacer.acquire_with_priority(self._scopes(route), f"tenant:{route.kind_family}",
                                                 priority)
            self.stats.count(route.kind)
            send_headers = {"Authorization": f"Bearer {self.auth.token()}", **(headers or {})}
            sent = time.monotonic()
            try:
                response = self.session.request(method, url, headers=send_headers, json=json_body,
                                                timeout=self.timeout,
                                                stream=stream or admit is not None)
            except (requests.ConnectionError, requests.Timeout) as exc:
                self._not_answered(exc)
                raise _Transient(type(exc).__name__) from None
            self._answered = True
            status = response.status_code
            if status < 300:
                self.stats.took(route.kind, time.monotonic() - sent)
            if admit is not None and 200 <= status < 300:
                if not admitted["done"]:
                    admitted["done"] = True
                    admit()
                try:  # read here, so a body that breaks off is retried like a failed request
                    _ = response.content
                except (requests.ConnectionError, requests.Timeout,
                        requests.exceptions.ChunkedEncodingError) as exc:
                    response.close()
                    raise _Transient(type(exc).__name__) from None
            if status == 429:
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                self.stats.add(throttled=1)
                if retry_after is not None:
                    until = self.pacer.clock() + retry_after
                    for key, _rate, _burst in self._scopes(route):
                        self.pacer.hold(key, until)
                response.close()
                raise _Throttled(retry_after)
            if status in TRANSIENT_STATUS:
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                response.close()
                raise _Transient(f"HTTP {status}", retry_after)
            if status == 401 and not refreshed["done"]:
                refreshed["done"] = True
                response.close()
                self.auth.invalidate()
                raise _Transient("HTTP 401 (token refreshed)", retry_after=0.0)
            return response

        def before_sleep(exc: BaseException, seconds: float) -> None:
            if isinstance(exc, _Throttled):
                self.stats.add(throttle_wait=seconds)
            else:
                self.stats.add(retried=1)
            log.info("Graph %s %s: %s; retrying in %.2fs", method, _redact(url),
                     "429" if isinstance(exc, _Throttled) else exc, seconds)

        try:
            response = self.policy.run(attempt, retry_on=(_Throttled, _Transient),
                                       sleep=self.sleep, before_sleep=before_sleep)
        except _Throttled:
            raise GraphUnavailable(f"Graph kept throttling {_redact(url)} after "
                                   f"{self.max_attempts} attempts",
                                   hint="the next run resumes from the last checkpoint") from None
        except _Transient as exc:
            raise GraphUnavailable(f"Graph {method} {_redact(url)} failed {self.max_attempts} times "
                                   f"(last: {exc.reason})",
                                   hint="the next run resumes from the last checkpoint") from None
        return self._check(response, route, url)

    def _not_answered(self, exc: Exception) -> None:
        """A refused connection before the host ever answered: after REACHABILITY_ATTEMPTS
        of them the host is unreachable (exit 2: the URL or the network to fix)."""
        if self._answered or not isinstance(exc, requests.ConnectionError):
            return
        self._refused += 1
        if self._refused >= REACHABILITY_ATTEMPTS:
            raise ServiceUnreachable(f"Graph is unreachable at {self.base_url} "
                                     f"({type(exc).__name__})",
                                     hint="check MIGRATE_GRAPH_URL (or graph.cloud) and the "
                                          "network; `migrate doctor` checks both") from None

    def _check(self, response: requests.Response, route: Route, url: str) -> requests.Response:
        status = response.status_code
        if status < 400:
            return response
        code, message = _error_code(response)
        response.close()
        raise graph_error(status, code, message, route, _redact(url))

    # -- reading -------------------------------------------------------------------------

    def get_json(self, path_or_url: str, *, headers: dict[str, str] | None = None,
                 priority: float | None = None, admit: Callable[[], None] | None = None) -> Json:
        response = self._request("GET", path_or_url, headers=headers, priority=priority,
                                 admit=admit)
        try:
            return response.json()
        except ValueError:
            raise GraphRequestError(f"Graph answered non-JSON for {_redact(self.url(path_or_url))}") from None

    def iter_pages(self, path_or_url: str, *, headers: dict[str, str] | None = None,
                   priority: Callable[[], float] | None = None,
                   admit: Callable[[], None] | None = None
                   ) -> Iterator[tuple[list[Json], str | None]]:
        """Yield (items, nextLink) page by page; resume later by passing a nextLink back in.
        `priority`, asked before each page, ranks this stream on its tenant-wide limit;
        `admit` is called before each page's body is read (see `_request`)."""
        url: str | None = path_or_url
        while url:
            page = self.get_json(url, headers=headers, priority=priority() if priority else None,
                                 admit=admit)
            asked, url = url, page.get("@odata.nextLink")
            if url is not None and url == asked:
                # A skiptoken that leads back to its own page (reported on several list
                # endpoints) would loop for ever: the stream stops here, refused, and its
                # caller starts it afresh next time.
                raise GraphRequestError(f"Graph gave {_redact(asked)} as its own next page")
            yield page.get("value", []), url

    def iter_items(self, path_or_url: str, *, headers: dict[str, str] | None = None) -> Iterator[Json]:
        for items, _next in self.iter_pages(path_or_url, headers=headers):
            yield from items

    def batch(self, requests_: list[Json], *, admit: Callable[[], None] | None = None
              ) -> list[Json]:
        """Run GET requests through `POST /$batch` (≤ 20 per call,
        https://learn.microsoft.com/graph/json-batching); returns one {status, headers, body}
        per request, in order. Throttled or failing items are retried in later batches after the
        longest Retry-After; others are returned as is. `admit` is called once, before the
        first answer's body is read (`_request`)."""
        admit_once = _once(admit)
        results: dict[str, Json] = {}
        pending = {str(i): r for i, r in enumerate(requests_)}

        def send_pending() -> None:
            retry_afters: list[float | None] = []
            ids = list(pending)
            for start in range(0, len(ids), 20):
                chunk = ids[start:start + 20]
                for item_id in chunk:  # batching saves round trips, not quota: pace each item
                    self.pacer.acquire(self._scopes(classify(pending[item_id]["url"])))
                body = {"requests": [{"id": i, "method": "GET", **pending[i]} for i in chunk]}
                answer = self._request("POST", "/$batch", json_body=body,
                                       route=Route("batch", None, None, "", 0),
                                       admit=admit_once).json()
                for item in answer.get("responses", []):
                    status = int(item.get("status", 0))
                    if status == 429 or status in TRANSIENT_STATUS:
                        headers = {k.lower(): v for k, v in (item.get("headers") or {}).items()}
                        retry_afters.append(parse_retry_after(headers.get("retry-after")))
                        self.stats.add(throttled=1 if status == 429 else 0)
                        continue
                    results[item["id"]] = item
                    pending.pop(item["id"], None)
            if pending:
                raise _Pending(retry_afters)

        def longest_wait(attempt: int, exc: BaseException) -> float:
            """The longest wait an unanswered item asks for: its Retry-After, else backoff."""
            assert isinstance(exc, _Pending)
            return max((self.policy.delay(attempt, ra) for ra in exc.retry_afters), default=0.0)

        if pending:
            try:  # the wait is counted in full, and slept up to the backoff cap
                self.policy.run(send_pending, retry_on=_Pending, wait=longest_wait,
                                sleep=lambda seconds: self.sleep(min(seconds, self.backoff_cap)),
                                before_sleep=lambda _exc, seconds: self.stats.add(
                                    throttle_wait=seconds),
                                wait_after_last=True)
            except _Pending:
                raise GraphUnavailable(f"{len(pending)} batched Graph reads kept failing") from None
        return [results[str(i)] for i in range(len(requests_))]

    def batch_get(self, requests_: list[Json], *, admit: Callable[[], None] | None = None
                  ) -> list[Json | MigrateError]:
        """`batch` with each answer translated: the JSON body on success, otherwise the error
        a direct request would have raised (returned, not raised, so the caller decides).
        Where the service has no JSON batching (`POST /$batch` answered 404, 405 or 400), the
        requests go one by one, from then on."""
        if self.batching:
            try:
                answers = self.batch(requests_, admit=admit)
            except (GraphNotFound, GraphRequestError) as exc:
                log.warning("Graph refused JSON batching (%s); requests go one by one", exc)
                self.batching = False
        if not self.batching:
            return self._one_by_one(requests_, admit)
        out: list[Json | MigrateError] = []
        for request, answer in zip(requests_, answers, strict=True):
            status = int(answer.get("status", 0))
            body = answer.get("body") or {}
            if 200 <= status < 300:
                out.append(body)
                continue
            error = body.get("error") or {} if isinstance(body, dict) else {}
            code, message = str(error.get("code") or status), str(error.get("message") or "")
            out.append(graph_error(status, code, message, classify(request["url"]),
                                   request["url"].split("?")[0]))
        return out

    def _one_by_one(self, requests_: list[Json], admit: Callable[[], None] | None
                    ) -> list[Json | MigrateError]:
        """`batch_get` without batching: each request on its own, its error returned."""
        admit_once = _once(admit)
        out: list[Json | MigrateError] = []
        for request in requests_:
            try:
                out.append(self.get_json(request["url"], headers=request.get("headers"),
                                         admit=admit_once))
            except (GraphNotFound, GraphRequestError, GraphUnavailable,
                    PermissionMissing) as exc:
                out.append(exc)
        return out

    def follow(self, page: Json, *, headers: dict[str, str] | None = None) -> Iterator[Json]:
        """The items of a page already in hand, then of the pages its nextLink leads to."""
        yield from page.get("value", [])
        if page.get("@odata.nextLink"):
            yield from self.iter_items(page["@odata.nextLink"], headers=headers)

    def download(self, path_or_url: str, dest_dir: Path, *, max_bytes: int) -> Download:
        """Stream a file (following Graph's 302 to the download URL) into `dest_dir`,
        content-addressed by SHA-256; FileTooLarge past `max_bytes` (nothing kept). A
        transfer that breaks off mid-stream is started again, a bounded number of times."""
        where = _redact(self.url(path_or_url))

        def broke_off(exc: BaseException, _seconds: float) -> None:
            self.stats.add(retried=1)
            log.info("download of %s broke off (%s); retrying", where, type(exc).__name__)

        try:
            return self.policy.run(lambda: self._download_once(path_or_url, dest_dir, max_bytes),
                                   retry_on=BROKEN_OFF, sleep=self.sleep,
                                   wait=lambda attempt, _exc: self.policy.delay(attempt),
                                   before_sleep=broke_off, wait_after_last=True)
        except BROKEN_OFF:
            raise GraphUnavailable(f"download of {where} kept breaking off") from None

    def _download_once(self, path_or_url: str, dest_dir: Path, max_bytes: int) -> Download:
        response = self._request("GET", path_or_url, stream=True)
        try:
            declared = int(response.headers.get("Content-Length") or 0)
            if declared > max_bytes:
                raise FileTooLarge(f"{declared} bytes is over the {max_bytes}-byte cap", declared)
            dest_dir.mkdir(parents=True, exist_ok=True)
            digest, size = hashlib.sha256(), 0
            fd, tmp_name = tempfile.mkstemp(dir=dest_dir, prefix=".part-")
            try:
                with os.fdopen(fd, "wb") as out:
                    for chunk in response.iter_content(chunk_size=1 << 16):
                        size += len(chunk)
                        if size > max_bytes:
                            raise FileTooLarge(f"more than the {max_bytes}-byte cap", size)
                        digest.update(chunk)
                        out.write(chunk)
                sha = digest.hexdigest()
                final = dest_dir / sha[:2] / sha
                final.parent.mkdir(exist_ok=True)
                os.replace(tmp_name, final)
            except BaseException:
                Path(tmp_name).unlink(missing_ok=True)
                raise
        finally:
            response.close()
        self.stats.add(bytes_downloaded=size)
        return Download(sha, size, final, response.headers.get("Content-Type"))
