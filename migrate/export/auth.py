"""Graph access tokens: MSAL client credentials (secret, certificate, or a client assertion —
including GitHub Actions workload identity federation), or a pre-acquired token.

MSAL keeps tokens in its in-memory cache and treats one that expires within five minutes as
expired (msal/application.py), so `token()` refreshes before expiry by itself; after a 401 the
client calls `invalidate()` and asks once more. Secrets never appear in errors or logs.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import msal
import requests

from migrate.config import GraphSettings
from migrate.errors import AuthError, ConfigError, ServiceUnreachable

log = logging.getLogger(__name__)

# The audience Entra expects in a federated credential's token (workload identity federation,
# e.g. from GitHub Actions OIDC).
FEDERATION_AUDIENCE = "api://AzureADTokenExchange"


class GraphAuth(Protocol):
    def token(self) -> str: ...
    def invalidate(self) -> None: ...
    @property
    def description(self) -> str: ...


class StaticTokenAuth:
    """MIGRATE_GRAPH_TOKEN: used as given; it cannot be refreshed."""

    description = "a pre-acquired token (MIGRATE_GRAPH_TOKEN)"

    def __init__(self, token: str) -> None:
        self._token = token

    def token(self) -> str:
        return self._token

    def invalidate(self) -> None:
        raise AuthError("Graph rejected MIGRATE_GRAPH_TOKEN (401)",
                        hint="the token has probably expired; acquire a new one or configure "
                             "an Entra app (MIGRATE_TENANT_ID, MIGRATE_CLIENT_ID and a credential)")


class MsalAuth:
    """Client-credentials flow through msal.ConfidentialClientApplication."""

    def __init__(self, app: msal.ConfidentialClientApplication, scope: str, description: str) -> None:
        self._app = app
        self._scopes = [scope]
        self.description = description
        self._lock = threading.Lock()

    def token(self) -> str:
        with self._lock:  # one token request at a time; the others then hit the cache
            try:
                result = self._app.acquire_token_for_client(scopes=self._scopes)
            except requests.RequestException as exc:
                raise ServiceUnreachable(f"the login host is unreachable ({type(exc).__name__})",
                                         hint="check the network, the proxy settings and "
                                         "graph.cloud") from None
        if "access_token" in result:
            return result["access_token"]
        error = result.get("error", "unknown_error")
        detail = (result.get("error_description") or "").splitlines()[0][:300]
        hint = _AUTH_HINTS.get(error, "check the tenant id, client id and credential with `migrate doctor`")
        raise AuthError(f"Entra ID refused a Graph token ({error}): {detail}", hint=hint)

    def invalidate(self) -> None:
        # A fresh cache rather than remove_tokens_for_client(), which first asks the login
        # host for instance aliases: one network call fewer, same effect for app-only tokens.
        with self._lock:
            self._app.token_cache = msal.TokenCache()


_AUTH_HINTS = {
    "invalid_client": "the client secret, certificate or assertion is wrong or expired",
    "unauthorized_client": "the app is not registered in this tenant, or the client id is wrong",
    "invalid_request": "check MIGRATE_TENANT_ID and MIGRATE_CLIENT_ID",
    "invalid_scope": "the Graph URL does not match the cloud of the tenant (see graph.cloud)",
}


def graph_scope(graph_base_url: str) -> str:
    """`https://graph.microsoft.us/v1.0` → `https://graph.microsoft.us/.default`: each cloud's
    Graph host is its token scope (https://learn.microsoft.com/graph/deployments)."""
    parts = urlsplit(graph_base_url)
    return f"{parts.scheme}://{parts.netloc}/.default"


def certificate_credential(path: Path) -> dict[str, str]:
    """MSAL's credential for a PEM holding the private key and the certificate; the SHA-1
    thumbprint (what the Entra portal shows for an uploaded certificate) is computed here."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    try:
        pem = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the client certificate ({exc.strerror})",
                          hint="MIGRATE_CLIENT_CERT must name a PEM file with key and certificate") from None
    key_start = pem.find(b"-----BEGIN")
    if b"PRIVATE KEY-----" not in pem or b"-----BEGIN CERTIFICATE-----" not in pem or key_start < 0:
        raise ConfigError(f"{path}: needs both a PRIVATE KEY and a CERTIFICATE block (PEM)")
    try:
        cert = x509.load_pem_x509_certificate(
            pem[pem.index(b"-----BEGIN CERTIFICATE-----"):])
    except ValueError as exc:
        raise ConfigError(f"{path}: the CERTIFICATE block is not a valid certificate ({exc})") from None
    thumbprint = cert.fingerprint(hashes.SHA1()).hex().upper()  # noqa: S303 - Entra's x5t
    key_begin = pem.rfind(b"-----BEGIN", 0, pem.index(b"PRIVATE KEY-----") + 1)
    key_end = pem.index(b"-----END", key_begin)
    key_end = pem.index(b"-----", key_end + 8) + 5
    return {"private_key": pem[key_begin:key_end].decode("ascii"), "thumbprint": thumbprint}


def github_oidc_assertion(environ: Mapping[str, str],
                          session: requests.Session | None = None) -> Callable[[], str]:
    """A callable fetching a fresh GitHub Actions OIDC token for Entra workload identity
    federation: the job needs `permissions: id-token: write`; no secret is stored."""
    url = environ["ACTIONS_ID_TOKEN_REQUEST_URL"]
    bearer = environ["ACTIONS_ID_TOKEN_REQUEST_TOKEN"]
    http = session or requests.Session()

    def fetch(*_args: Any) -> str:  # msal ≥ 1.39 may pass a context dict
        try:
            response = http.get(url, params={"audience": FEDERATION_AUDIENCE},
                                headers={"Authorization": f"bearer {bearer}"}, timeout=30)
        except requests.RequestException as exc:
            raise AuthError(f"cannot reach GitHub's OIDC token endpoint ({type(exc).__name__})") from None
        if response.status_code != 200:
            raise AuthError(f"GitHub's OIDC token endpoint answered {response.status_code}",
                            hint="give the job `permissions: id-token: write`")
        try:
            return response.json()["value"]
        except (ValueError, KeyError):
            raise AuthError("GitHub's OIDC token endpoint answered without a token") from None

    return fetch


def _file_assertion(path: Path) -> Callable[[], str]:
    def read(*_args: Any) -> str:
        try:
            return Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise AuthError(f"{path}: cannot read the client assertion ({exc.strerror})") from None

    return read


def _credential(settings: GraphSettings, environ: Mapping[str, str]) -> tuple[Any, str]:
    """The MSAL client_credential and a description of it (for doctor and errors)."""
    if settings.client_secret:
        return settings.client_secret, "a client secret (MIGRATE_CLIENT_SECRET)"
    if settings.client_cert:
        return certificate_credential(Path(settings.client_cert)), f"a certificate ({settings.client_cert})"
    if settings.client_assertion:
        assertion = settings.client_assertion
        return ({"client_assertion": lambda *_: assertion},  # MSAL wants a callable (#746)
                "a client assertion (MIGRATE_CLIENT_ASSERTION)")
    if settings.client_assertion_file:
        return ({"client_assertion": _file_assertion(Path(settings.client_assertion_file))},
                f"a client assertion file ({settings.client_assertion_file})")
    if environ.get("ACTIONS_ID_TOKEN_REQUEST_URL") and environ.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN"):
        return ({"client_assertion": github_oidc_assertion(environ)},
                "GitHub Actions workload identity federation")
    raise ConfigError(
        "no Graph credential: set MIGRATE_CLIENT_SECRET, MIGRATE_CLIENT_CERT, "
        "MIGRATE_CLIENT_ASSERTION(_FILE), or MIGRATE_GRAPH_TOKEN",
        hint="in GitHub Actions, `permissions: id-token: write` enables federation without a secret")


def build_auth(settings: GraphSettings, *, environ: Mapping[str, str] | None = None,
               http_client: Any = None) -> GraphAuth:
    """The token source the settings describe. `http_client` is MSAL's transport (tests
    inject a fake one: MSAL refuses non-https authorities, see `canonicalize()` in
    msal/authority.py of https://github.com/AzureAD/microsoft-authentication-library-for-python)."""
    environ = os.environ if environ is None else environ
    if settings.token:
        return StaticTokenAuth(settings.token)
    missing = [name for name, value in (("MIGRATE_TENANT_ID", settings.tenant_id),
                                        ("MIGRATE_CLIENT_ID", settings.client_id)) if not value]
    if missing:
        raise ConfigError(f"{' and '.join(missing)} not set",
                          hint="they identify the Entra app; or set MIGRATE_GRAPH_TOKEN")
    credential, description = _credential(settings, environ)
    authority = f"{settings.authority_host}/{settings.tenant_id}"
    host = urlsplit(settings.authority_host).hostname or ""
    kwargs: dict[str, Any] = {}
    if host not in msal.authority.WELL_KNOWN_AUTHORITY_HOSTS:
        kwargs["instance_discovery"] = False  # a private or test login host: no discovery call
    if http_client is not None:
        kwargs["http_client"] = http_client
    try:
        app = msal.ConfidentialClientApplication(
            settings.client_id, client_credential=credential, authority=authority, **kwargs)
    except ValueError as exc:  # MSAL validates the authority URL and the credential's shape
        raise ConfigError(f"cannot set up Entra sign-in for {authority}: {exc}") from None
    except requests.RequestException as exc:  # MSAL reads the OpenID configuration at once
        raise ServiceUnreachable(f"the login host {settings.authority_host} is unreachable "
                                 f"({type(exc).__name__})",
                                 hint="check the network, the proxy settings and graph.cloud") from None
    return MsalAuth(app, graph_scope(settings.base_url), description)
