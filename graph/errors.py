"""The storage layer's own failure; the domain errors it raises live in music/errors.py."""

from music.errors import DomainError


class GraphUnavailableError(DomainError):
    """The graph engine could not be reached or failed; details stay in the log."""

    code = "INTERNAL"


class GraphUnreachableError(GraphUnavailableError):
    """No graph server answered (down, restarting, no leader): retry later (HTTP 503)."""

    code = "SERVICE_UNAVAILABLE"
