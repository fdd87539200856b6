"""The storage layer's own failure; the domain errors it raises live in music/errors.py."""

from music.errors import DomainError


class GraphUnavailableError(DomainError):
    """The graph engine could not be reached or failed; details stay in the log."""

    code = "INTERNAL"
