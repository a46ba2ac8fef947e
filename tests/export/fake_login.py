"""A fake transport for MSAL: it refuses non-https authorities (reference/graph.md §8.5), so
tests inject this `http_client` instead of a server. It records every request."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit


class FakeResponse:
    def __init__(self, status_code: int, body: dict[str, Any], headers: dict[str, str] | None = None):
        self.status_code = status_code
        self.text = json.dumps(body)
        self.headers = headers or {}

    def raise_for_status(self) -> None:
        if self.status_code >= 400:
            raise RuntimeError(f"HTTP {self.status_code}")


class FakeLogin:
    """Answers OpenID discovery and the token endpoint like Entra ID does."""

    def __init__(self, token_error: dict[str, str] | None = None, expires_in: int = 3599):
        self.requests: list[dict[str, Any]] = []
        self.token_error = token_error
        self.expires_in = expires_in
        self.issued = 0

    def get(self, url: str, params=None, headers=None, **kwargs) -> FakeResponse:
        self.requests.append({"method": "GET", "url": url})
        parts = urlsplit(url)
        if parts.path.endswith("/discovery/instance"):  # MSAL's alias lookup, shape as Entra's
            host = parts.hostname
            return FakeResponse(200, {"tenant_discovery_endpoint": f"https://{host}/common/v2.0/"
                                      ".well-known/openid-configuration", "api-version": "1.1",
                                      "metadata": [{"preferred_network": host, "preferred_cache": host,
                                                    "aliases": [host]}]})
        tenant = parts.path.split("/")[1]
        base = f"{parts.scheme}://{parts.netloc}/{tenant}"
        return FakeResponse(200, {"authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                                  "token_endpoint": f"{base}/oauth2/v2.0/token",
                                  "issuer": f"{base}/v2.0"})

    def post(self, url: str, params=None, data=None, headers=None, **kwargs) -> FakeResponse:
        self.requests.append({"method": "POST", "url": url, "data": dict(data or {})})
        if self.token_error:
            return FakeResponse(400, self.token_error)
        self.issued += 1
        return FakeResponse(200, {"token_type": "Bearer", "expires_in": self.expires_in,
                                  "access_token": f"token-{self.issued}"})

    def close(self) -> None:
        pass

    @property
    def token_posts(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["method"] == "POST"]
