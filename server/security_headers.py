"""Security headers on every HTTP response, and who may see operator detail.

Every response gets `X-Content-Type-Options: nosniff`, `Referrer-Policy`,
`X-Frame-Options` and a Content-Security-Policy; in production also
`Strict-Transport-Security` (the proxy in front terminates TLS). A response that
sets its own policy keeps it: the pages (Swagger UI, ReDoc, /explore) name the scripts
and styles they need. Any other HTML (GraphiQL) gets `PAGE_CSP`, and everything else
`API_CSP`: nothing may load.

`/metrics` and the full `/health` are for operators: the bearer token
`APOLLONIA_METRICS_TOKEN`, or an admin's credential. Without a token configured,
development serves both to anyone; production serves `/metrics` to admins only and
`/health` reduced to its status.
"""

import hmac
from collections.abc import Iterable

from starlette.requests import Request

from resolvers.permissions import ADMIN_ACCESS, Principal
from server.explorer import CSP as EXPLORER_CSP

API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# Pages that do not name their own policy: GraphiQL's (Ariadne serves it with the
# policy in a <meta>, which a header must not contradict), framed by nobody.
PAGE_CSP = f"{EXPLORER_CSP}; frame-ancestors 'none'"
HSTS = "max-age=31536000; includeSubDomains"
API_CSP_BYTES = API_CSP.encode()
PAGE_CSP_BYTES = PAGE_CSP.encode()
OPERATOR_PATHS = frozenset({"/metrics", "/health"})

_ALWAYS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
)


def with_security_headers(
    headers: Iterable[tuple[bytes, bytes]], production: bool
) -> list[tuple[bytes, bytes]]:
    """A response's headers with the security headers it does not set itself."""
    headers = list(headers)
    present = {name.lower() for name, _ in headers}
    added = [(n, v) for n, v in _ALWAYS if n not in present]
    if b"content-security-policy" not in present:
        content_type = b""
        for name, value in headers:
            if name.lower() == b"content-type":
                content_type = value
        html = content_type.startswith(b"text/html")
        added.append((b"content-security-policy", PAGE_CSP_BYTES if html else API_CSP_BYTES))
    if production and b"strict-transport-security" not in present:
        added.append((b"strict-transport-security", HSTS.encode()))
    headers.extend(added)
    return headers


def is_metrics_token(credential: str | None, token: str) -> bool:
    """Whether `credential` is the configured metrics token (compared in constant time)."""
    return bool(token) and credential is not None and hmac.compare_digest(credential, token)


def operator_access(request: Request, production: bool, token: str) -> bool:
    """Whether the caller may see operator detail (metrics, the full health report)."""
    if request.scope.get("state", {}).get("metrics_token"):
        return True
    principal: Principal | None = getattr(request.state, "principal", None)
    if principal is not None and ADMIN_ACCESS in principal.permissions:
        return True
    return not production and not token
