"""What the edge refuses before any service sees a request, and the headers it adds.

- bodies larger than the limit, however they are sent (``Content-Length`` or chunked);
- JSON bodies with a NUL character in any string (PostgreSQL text cannot hold it) or
  nested deeper than ``MAX_JSON_DEPTH`` (no form of ours nests that deep);
- ``X-Forwarded-For`` is believed only from the configured proxies;
- HTML answers carry a Content-Security-Policy and the other browser protections.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Awaitable, Callable
from typing import Any

from .problems import Problem

MAX_JSON_DEPTH = 32
# The SPA (a Vite build) loads its scripts and styles from our origin; Element Plus sets
# inline styles, so styles may be inline; nothing may frame our pages.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline';"
    " img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none';"
    " base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
# FastAPI's /docs and /redoc pages load Swagger UI / ReDoc from their CDN with an inline
# bootstrap script; they get what they need and nothing more (still never framed).
DOCS_PATHS = ("/docs", "/redoc")
DOCS_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net;"
    " style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com;"
    " img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly;"
    " font-src 'self' https://fonts.gstatic.com; worker-src blob:; connect-src 'self';"
    " object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
)
HTML_HEADERS = (
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
)
ALWAYS_HEADERS = ((b"x-content-type-options", b"nosniff"),)

Receive = Callable[[], Awaitable[dict[str, Any]]]


class BodyTooLarge(Exception):
    pass


async def read_body(receive: Receive, limit: int) -> tuple[bytes, list[dict[str, Any]]]:
    """The whole request body, refused as soon as it passes ``limit`` bytes (chunked bodies
    have no Content-Length to check up front). Returns the body and any non-body message
    (a disconnect) met on the way."""
    parts: list[bytes] = []
    size = 0
    others: list[dict[str, Any]] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            others.append(message)
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        parts.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(parts), others


def replay(body: bytes, others: list[dict[str, Any]], receive: Receive) -> Receive:
    """A ``receive`` that hands the app the body already read, then the real channel."""
    pending: list[dict[str, Any]] = [{"type": "http.request", "body": body, "more_body": False}]
    pending += others

    async def receive_again() -> dict[str, Any]:
        if pending:
            return pending.pop(0)
        return await receive()

    return receive_again


def json_refusal(body: bytes) -> Problem | None:
    """A 422 for a JSON body with NUL characters or too deep a nesting; None otherwise
    (a body that is not JSON at all is left to the endpoint's own validation)."""
    if not body:
        return None
    try:
        doc = json.loads(body)
    except RecursionError:
        return _too_deep()
    except ValueError:
        return None
    stack: list[tuple[Any, int]] = [(doc, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                return _nul()
        elif isinstance(value, dict | list):
            if depth > MAX_JSON_DEPTH:
                return _too_deep()
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(key, str) and "\x00" in key:
                    return _nul()
                stack.append((item, depth + 1))
    return None


def _nul() -> Problem:
    return Problem(422, "提交的内容含有空字符（NUL，\\u0000），请删除后重新提交。")


def _too_deep() -> Problem:
    return Problem(422, f"提交的数据嵌套层级过深（不超过{MAX_JSON_DEPTH}层）。")


def nul_in_target(scope: dict[str, Any]) -> Problem | None:
    """NUL in the path or the query string (``%00``) is refused the same way."""
    query = scope.get("query_string", b"").lower()
    if "\x00" in scope.get("path", "") or b"%00" in query:
        return _nul()
    return None


def parse_networks(setting: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(
        ipaddress.ip_network(n.strip(), strict=False) for n in setting.split(",") if n.strip()
    )


def _trusted(address: str, proxies: tuple[Any, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in proxies)


def client_address(peer: str, forwarded_for: str, proxies: tuple[Any, ...]) -> str:
    """The caller's address: the peer, unless the peer is one of our proxies; then the last
    address in ``X-Forwarded-For`` that is not a proxy of ours (each proxy appends the
    address it saw, so anything further left was written by the client itself)."""
    if not proxies or not forwarded_for or not _trusted(peer, proxies):
        return peer
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, proxies):
            return hop
    return hops[0] if hops else peer


def with_security_headers(
    headers: list[tuple[bytes, bytes]], path: str = ""
) -> list[tuple[bytes, bytes]]:
    """The response headers plus nosniff; for HTML also CSP (unless the page brings its own,
    as Keycloak's login pages do), frame denial and the referrer policy."""
    names = {k.lower() for k, _ in headers}
    out = list(headers)
    out += [h for h in ALWAYS_HEADERS if h[0] not in names]
    content_type = next((v for k, v in headers if k.lower() == b"content-type"), b"")
    if content_type.lower().startswith(b"text/html"):
        if b"content-security-policy" not in names:
            policy = DOCS_CONTENT_SECURITY_POLICY if path in DOCS_PATHS else CONTENT_SECURITY_POLICY
            out.append((b"content-security-policy", policy.encode()))
        out += [h for h in HTML_HEADERS if h[0] not in names]
    return out
