"""Domain errors with stable codes.

They cross every layer unchanged: the GraphQL error formatter turns them into
`extensions.code`, and the REST shim into its error envelope. Their messages are
written for clients; driver text never goes into them.
"""

from typing import Any


class DomainError(Exception):
    """An error a client can act on, identified by a stable `code`."""

    code = "INTERNAL"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class ValidationError(DomainError):
    code = "VALIDATION_ERROR"


class NotFoundError(DomainError):
    code = "NOT_FOUND"


class ConflictError(DomainError):
    code = "CONFLICT"


class UnauthenticatedError(DomainError):
    """No valid credential: missing, malformed, expired, revoked or forged."""

    code = "UNAUTHENTICATED"


class ForbiddenError(DomainError):
    code = "FORBIDDEN"


class RateLimitedError(DomainError):
    code = "RATE_LIMITED"


class GraphUnavailableError(DomainError):
    """The graph engine could not be reached or failed; details stay in the log."""

    code = "INTERNAL"


class GraphUnreachableError(GraphUnavailableError):
    """No graph server answered (down, restarting, no leader): retry later (HTTP 503)."""

    code = "SERVICE_UNAVAILABLE"
