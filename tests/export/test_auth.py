"""Graph authentication: every credential kind, national clouds, caching and refresh."""

from __future__ import annotations

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from migrate.config import load_settings
from migrate.errors import AuthError, ConfigError
from migrate.export.auth import StaticTokenAuth, build_auth, certificate_credential, graph_scope

from .fake_login import FakeLogin

APP = {"MIGRATE_TENANT_ID": "11111111-2222-3333-4444-555555555555", "MIGRATE_CLIENT_ID": "app-id"}


def graph_settings(**env):
    return load_settings(None, environ={**APP, **env}).graph


def test_client_secret_flow_caches_the_token_and_refreshes_after_invalidate():
    login = FakeLogin()
    auth = build_auth(graph_settings(MIGRATE_CLIENT_SECRET="s3cret"), http_client=login, environ={})
    assert auth.token() == "token-1"
    assert auth.token() == "token-1"  # served from MSAL's cache
    assert len(login.token_posts) == 1
    post = login.token_posts[0]
    assert post["url"] == f"https://login.microsoftonline.com/{APP['MIGRATE_TENANT_ID']}/oauth2/v2.0/token"
    assert post["data"]["grant_type"] == "client_credentials"
    assert post["data"]["scope"] == "https://graph.microsoft.com/.default"
    assert post["data"]["client_secret"] == "s3cret"
    auth.invalidate()  # what the client does after a 401
    assert auth.token() == "token-2"


def test_token_close_to_expiry_is_refreshed_before_use():
    login = FakeLogin(expires_in=120)  # MSAL treats < 5 minutes left as expired
    auth = build_auth(graph_settings(MIGRATE_CLIENT_SECRET="s"), http_client=login, environ={})
    assert auth.token() == "token-1"
    assert auth.token() == "token-2"


@pytest.mark.parametrize(
    "cloud, login_host, scope",
    [
        ("gcc-high", "login.microsoftonline.us", "https://graph.microsoft.us/.default"),
        ("dod", "login.microsoftonline.us", "https://dod-graph.microsoft.us/.default"),
        ("china", "login.chinacloudapi.cn", "https://microsoftgraph.chinacloudapi.cn/.default"),
    ],
)
def test_national_clouds_set_login_host_and_scope_together(cloud, login_host, scope):
    login = FakeLogin()
    auth = build_auth(graph_settings(MIGRATE_CLIENT_SECRET="s", MIGRATE_CLOUD=cloud),
                      http_client=login, environ={})
    auth.token()
    post = login.token_posts[0]
    assert urlsplit(post["url"]).hostname == login_host
    assert post["data"]["scope"] == scope


def test_explicit_urls_override_the_cloud():
    login = FakeLogin()
    settings = graph_settings(MIGRATE_CLIENT_SECRET="s", MIGRATE_CLOUD="gcc-high",
                              MIGRATE_AUTHORITY_URL="https://login.example.test",
                              MIGRATE_GRAPH_URL="https://graph.example.test/v1.0")
    build_auth(settings, http_client=login, environ={}).token()
    # A private login host gets no instance-discovery call to Microsoft.
    assert all(urlsplit(r["url"]).hostname == "login.example.test" for r in login.requests)
    assert login.token_posts[0]["data"]["scope"] == "https://graph.example.test/.default"


def make_pem(tmp_path):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "migrate-test")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + dt.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()) + cert.public_bytes(serialization.Encoding.PEM)
    path = tmp_path / "app.pem"
    path.write_bytes(pem)
    return path, cert


def test_certificate_thumbprint_is_computed_and_assertion_signed(tmp_path):
    path, cert = make_pem(tmp_path)
    credential = certificate_credential(path)
    assert credential["thumbprint"] == cert.fingerprint(hashes.SHA1()).hex().upper()  # noqa: S303
    assert credential["private_key"].startswith("-----BEGIN PRIVATE KEY-----")
    login = FakeLogin()
    build_auth(graph_settings(MIGRATE_CLIENT_CERT=str(path)), http_client=login, environ={}).token()
    data = login.token_posts[0]["data"]
    assert data["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    assert len(str(data["client_assertion"]).split(".")) == 3  # a signed JWT
    assert "client_secret" not in data


def test_bad_certificate_file_is_a_config_error(tmp_path):
    (tmp_path / "bad.pem").write_text("not a pem")
    with pytest.raises(ConfigError, match="PRIVATE KEY and a CERTIFICATE"):
        certificate_credential(tmp_path / "bad.pem")
    with pytest.raises(ConfigError, match="cannot read the client certificate"):
        certificate_credential(tmp_path / "absent.pem")


def test_client_assertion_from_environment_and_file(tmp_path):
    login = FakeLogin()
    build_auth(graph_settings(MIGRATE_CLIENT_ASSERTION="a.b.c"), http_client=login, environ={}).token()
    assert login.token_posts[0]["data"]["client_assertion"] == "a.b.c"
    jwt = tmp_path / "token"
    jwt.write_text("x.y.z\n")
    login = FakeLogin()
    auth = build_auth(graph_settings(MIGRATE_CLIENT_ASSERTION_FILE=str(jwt)), http_client=login, environ={})
    auth.token()
    assert login.token_posts[0]["data"]["client_assertion"] == "x.y.z"
    jwt.write_text("x.y.2")  # rotated on disk: the next token request reads the new one
    auth.invalidate()
    auth.token()
    assert login.token_posts[1]["data"]["client_assertion"] == "x.y.2"


class GitHubOidc(BaseHTTPRequestHandler):
    seen: list[dict] = []

    def do_GET(self):  # noqa: N802
        GitHubOidc.seen.append({"path": self.path, "auth": self.headers.get("Authorization")})
        query = parse_qs(urlsplit(self.path).query)
        body = json.dumps({"value": f"gh.{query['audience'][0]}.jwt"}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_github_actions_workload_identity_federation():
    server = ThreadingHTTPServer(("127.0.0.1", 0), GitHubOidc)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        environ = {"ACTIONS_ID_TOKEN_REQUEST_URL": f"http://127.0.0.1:{server.server_port}/token?api-version=2.0",
                   "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "runner-bearer"}
        login = FakeLogin()
        auth = build_auth(graph_settings(), http_client=login, environ=environ)
        assert "GitHub Actions" in auth.description
        auth.token()
    finally:
        server.shutdown()
    assert GitHubOidc.seen[0]["auth"] == "bearer runner-bearer"
    assert "api-version=2.0" in GitHubOidc.seen[0]["path"]
    assert login.token_posts[0]["data"]["client_assertion"] == "gh.api://AzureADTokenExchange.jwt"


def test_missing_app_or_credential_is_a_clear_config_error():
    with pytest.raises(ConfigError, match="MIGRATE_TENANT_ID and MIGRATE_CLIENT_ID not set"):
        build_auth(load_settings(None, environ={}).graph, environ={})
    with pytest.raises(ConfigError, match="no Graph credential"):
        build_auth(graph_settings(), http_client=FakeLogin(), environ={})


def test_refused_token_is_an_auth_error_without_the_secret():
    login = FakeLogin(token_error={"error": "invalid_client",
                                   "error_description": "AADSTS7000215: Invalid client secret provided.\nTrace ID: x"})
    auth = build_auth(graph_settings(MIGRATE_CLIENT_SECRET="wrong-secret-value"), http_client=login, environ={})
    with pytest.raises(AuthError) as info:
        auth.token()
    line = info.value.one_line()
    assert info.value.exit_code == 3
    assert "invalid_client" in line and "AADSTS7000215" in line and "Trace ID" not in line
    assert "wrong-secret-value" not in line


def test_static_token_bypasses_msal_and_cannot_refresh():
    auth = build_auth(graph_settings(MIGRATE_GRAPH_TOKEN="eyJ.static"), environ={})
    assert isinstance(auth, StaticTokenAuth) and auth.token() == "eyJ.static"
    with pytest.raises(AuthError, match="rejected MIGRATE_GRAPH_TOKEN"):
        auth.invalidate()


def test_graph_scope():
    assert graph_scope("https://graph.microsoft.com/v1.0") == "https://graph.microsoft.com/.default"
