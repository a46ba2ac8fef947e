"""OData plumbing of the Graph emulator: errors, query options, paging tokens, dates, share ids.

Kept apart from the routes so the rules (and their sources) are in one place: `$top` limits,
`$select`, the getAllMessages `lastModifiedDateTime` filter, opaque `$skiptoken`s
(https://learn.microsoft.com/graph/paging), `u!` sharing tokens; each rule names its page.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

Json = dict[str, Any]


class GraphError(Exception):
    """A Graph error answer: status, `error.code`, `error.message`
    (https://learn.microsoft.com/graph/errors)."""

    def __init__(self, status: int, code: str, message: str,
                 headers: dict[str, str] | None = None, inner: Json | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.inner = inner


def bad_request(message: str) -> GraphError:
    return GraphError(400, "BadRequest", message)


def not_found(message: str, code: str = "NotFound") -> GraphError:
    return GraphError(404, code, message)


def error_body(code: str, message: str, request_id: str, client_request_id: str,
               inner: Json | None = None) -> Json:
    inner_error: Json = {"date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
                         "request-id": request_id, "client-request-id": client_request_id}
    # 429 has its own innerError shape (https://learn.microsoft.com/graph/throttling)
    if inner is not None:
        inner_error = {"code": inner.get("code"), "date": inner_error["date"],
                       "message": inner.get("message"), "request-id": request_id,
                       **{k: v for k, v in inner.items() if k not in ("code", "message")}}
    return {"error": {"code": code, "message": message, "innerError": inner_error}}


# ---- dates -------------------------------------------------------------------------------

_FRACTION = re.compile(r"\.(\d+)")


def to_micros(value: str) -> int:
    """Microseconds since the epoch of an ISO 8601 date-time (Graph's 'Z' form or an offset).

    Graph sends up to 7 fractional digits; Python reads 6, so the rest is cut. A value without
    an offset is taken as UTC. Raises ValueError on anything else.
    """
    text = value.strip()
    text = _FRACTION.sub(lambda m: "." + m.group(1)[:6].ljust(6, "0"), text, count=1)
    # A '+' sent unescaped in a query string arrives as a space.
    text = re.sub(r" (\d\d:\d\d)$", r"+\1", text)
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    delta = parsed - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def iso_from_millis(ms: int) -> str:
    """'2021-03-28T21:11:12.395Z' — the millisecond 'Z' form Teams uses for message dates."""
    stamp = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


# ---- query options -----------------------------------------------------------------------

# OData system query options; v1.0 also accepts them without the '$' (normalised here).
SYSTEM_OPTIONS = {"top", "skip", "skiptoken", "select", "expand", "filter", "orderby", "count",
                  "search", "format"}


def parse_query(raw: str) -> dict[str, str]:
    """Query string → {"$top": "5", ...}; unknown non-system parameters are kept as they are."""
    out: dict[str, str] = {}
    for key, value in parse_qsl(raw, keep_blank_values=True):
        name = key.lower()
        bare = name[1:] if name.startswith("$") else name
        out[f"${bare}" if bare in SYSTEM_OPTIONS else key] = value
    return out


def check_options(query: dict[str, str], allowed: set[str]) -> None:
    """400 for a system query option the endpoint does not support (wording of the real
    ASP.NET OData error, e.g. on chat messages: msgraph-sdk-powershell#1253)."""
    for name in query:
        if name.startswith("$") and name not in allowed:
            option = name[1:].capitalize()
            raise bad_request(
                f"The query specified in the URI is not valid. Query option '{option}' is not "
                "allowed. To allow it, set the 'AllowedQueryOptions' property on "
                "EnableQueryAttribute or QueryValidationSettings."
            )


def directory_top(query: dict[str, str], default: int = 100) -> int:
    """`$top` of directory-style collections: 1..999, default 100
    (https://learn.microsoft.com/graph/api/user-list, …/channel-list-members)."""
    raw = query.get("$top")
    if raw is None:
        return default
    top = _int_top(raw)
    if not 1 <= top <= 999:
        raise bad_request(f"Invalid page size specified: '{raw}'. Must be between 1 and 999 inclusive.")
    return top


def message_top(query: dict[str, str], default: int = 20, maximum: int = 50) -> int:
    """`$top` of message collections: at most 50
    (https://learn.microsoft.com/graph/api/channel-list-messages; a larger value is refused,
    https://github.com/microsoftgraph/msgraph-sdk-powershell/issues/874)."""
    raw = query.get("$top")
    if raw is None:
        return default
    top = _int_top(raw)
    if top > maximum:
        raise bad_request(f"Limit of '{maximum}' for Top Query has been exceeded")
    if top < 1:
        raise bad_request(f"Invalid value '{raw}' for $top query option found.")
    return top


def _int_top(raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise bad_request(
            f"The query specified in the URI is not valid. Invalid value '{raw}' for $top query option found."
        ) from None


def parse_select(query: dict[str, str], type_name: str, known: frozenset[str] | None = None
                 ) -> list[str] | None:
    raw = query.get("$select")
    if raw is None:
        return None
    names = [n.strip() for n in raw.split(",")]
    for name in names:
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name) or (known is not None and name not in known):
            raise bad_request(f"Could not find a property named '{name}' on type 'microsoft.graph.{type_name}'.")
    return names


def apply_select(item: Json, names: list[str] | None) -> Json:
    """Only the selected properties (null when the object lacks one), annotations kept."""
    if names is None:
        return item
    out = {k: v for k, v in item.items() if k.startswith("@odata.type")}
    for name in names:
        out[name] = item.get(name)
    return out


# user properties of the v1.0 CSDL (contracts/graph-teams-schemas.json) that $select accepts
_USER_PROPERTY_NAMES = """
id deletedDateTime aboutMe accountEnabled ageGroup assignedLicenses assignedPlans
authorizationInfo birthday businessPhones city companyName consentProvidedForMinor country
createdDateTime creationType customSecurityAttributes department deviceEnrollmentLimit
displayName employeeHireDate employeeId employeeLeaveDateTime employeeOrgData employeeType
externalUserState externalUserStateChangeDateTime faxNumber givenName hireDate identities
identityParentId imAddresses interests isManagementRestricted isResourceAccount jobTitle
lastPasswordChangeDateTime legalAgeGroupClassification licenseAssignmentStates mail
mailNickname mailboxSettings mobilePhone mySite officeLocation onPremisesDistinguishedName
onPremisesDomainName onPremisesExtensionAttributes onPremisesImmutableId
onPremisesLastSyncDateTime onPremisesProvisioningErrors onPremisesSamAccountName
onPremisesSecurityIdentifier onPremisesSyncEnabled onPremisesUserPrincipalName otherMails
passwordPolicies passwordProfile pastProjects postalCode preferredDataLocation
preferredLanguage preferredName print provisionedPlans proxyAddresses responsibilities schools
securityIdentifier serviceProvisioningErrors showInAddressList signInActivity
signInSessionsValidFromDateTime skills state streetAddress surname usageLocation
userPrincipalName userType
"""
USER_PROPERTIES = frozenset(_USER_PROPERTY_NAMES.split())

# Returned by GET /users without $select (https://learn.microsoft.com/graph/api/user-list).
USER_DEFAULT_PROPERTIES = ["businessPhones", "displayName", "givenName", "id", "jobTitle", "mail",
                           "mobilePhone", "officeLocation", "preferredLanguage", "surname",
                           "userPrincipalName"]


# ---- getAllMessages $filter ----------------------------------------------------------------
# A `lastModifiedDateTime` range (https://learn.microsoft.com/graph/api/channel-getallmessages).

_OPS = {"gt": "GreaterThan", "ge": "GreaterThanOrEqual", "lt": "LessThan",
        "le": "LessThanOrEqual", "eq": "Equal", "ne": "NotEqual"}
_CLAUSE = re.compile(r"^\s*([A-Za-z][\w/]*)\s+(\w+)\s+(.+?)\s*$")


def parse_modified_filter(expr: str) -> tuple[int | None, int | None]:
    """`lastModifiedDateTime gt X and lastModifiedDateTime lt Y` (either bound alone, ge/le too)
    → (lowest admitted micros, highest admitted micros), both inclusive after adjustment.

    Datetimes are unquoted ISO 8601 as in the docs' example; anything else is refused with the
    wording of the real OData errors.
    """
    if re.search(r"\)\s*or\s*\(|\s+or\s+", expr, flags=re.IGNORECASE):
        raise bad_request("Invalid $filter query.")
    lo: int | None = None
    hi: int | None = None
    for clause in re.split(r"\s+and\s+", expr.strip(), flags=re.IGNORECASE):
        clause = clause.strip()
        while clause.startswith("(") and clause.endswith(")"):
            clause = clause[1:-1].strip()
        m = _CLAUSE.match(clause)
        if not m:
            raise bad_request("Invalid $filter query.")
        prop, op, value = m.group(1), m.group(2).lower(), m.group(3)
        if op not in _OPS:
            raise bad_request(f"Syntax error at position {len(prop) + 1} in '{expr}'.")
        if prop.lower() != "lastmodifieddatetime" or op in ("eq", "ne"):
            raise bad_request(f"The entity property '{prop}' and operationKind '{_OPS[op]}' "
                              "is not allowed in $filter query.")
        if value.startswith("'"):
            raise bad_request("A binary operator with incompatible types was detected. Found operand "
                              f"types 'Edm.DateTimeOffset' and 'Edm.String' for operator kind '{_OPS[op]}'.")
        try:
            micros = to_micros(value)
        except ValueError:
            raise bad_request(f"The DateTimeOffset text '{value}' should be in format "
                              "'yyyy-mm-ddThh:mm:ss('.'s+)?(zzzzzz)?' and each field value is "
                              "within valid range.") from None
        if op in ("gt", "ge"):
            bound = micros + 1 if op == "gt" else micros
            lo = bound if lo is None else max(lo, bound)
        else:
            bound = micros - 1 if op == "lt" else micros
            hi = bound if hi is None else min(hi, bound)
    return lo, hi


# ---- opaque tokens (skiptokens, download URLs) ----------------------------------------------


class Signer:
    """Opaque, tamper-evident tokens: base64url(JSON) + '.' + truncated HMAC.

    Clients must follow @odata.nextLink verbatim (https://learn.microsoft.com/graph/paging);
    signing makes a fabricated or edited token fail like Graph's "invalid continuation token"
    instead of silently paging.
    The key is derived from the tenant id so that tokens survive an emulator restart.
    """

    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(("graph-emulator:" + secret).encode()).digest()

    def sign(self, payload: Json) -> str:
        data = _b64e(json.dumps(payload, separators=(",", ":")).encode())
        mac = hmac.new(self._key, data.encode(), hashlib.sha256).digest()[:12]
        return f"{data}.{_b64e(mac)}"

    def unsign(self, token: str) -> Json | None:
        data, _, mac = token.partition(".")
        expected = hmac.new(self._key, data.encode(), hashlib.sha256).digest()[:12]
        try:
            if not hmac.compare_digest(_b64d(mac), expected):
                return None
            payload = json.loads(_b64d(data))
        except (ValueError, json.JSONDecodeError):
            return None
        return payload if isinstance(payload, dict) else None


def _b64e(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode_sharing_url(url: str) -> str:
    """The `u!` share id of a URL: base64url of UTF-8, no padding
    (https://learn.microsoft.com/graph/api/shares-get)."""
    return "u!" + _b64e(url.encode("utf-8"))


def decode_sharing_token(token: str) -> str | None:
    if not token.startswith("u!"):
        return None
    try:
        return _b64d(token[2:]).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None
