"""Custom scalars."""

from datetime import UTC, datetime
from typing import Any

from ariadne import ScalarType

from music.errors import ValidationError

datetime_scalar = ScalarType("DateTime")


@datetime_scalar.serializer
def serialize_datetime(value: Any) -> str:
    """Graph timestamps are epoch milliseconds (FalkorDB has no datetime type)."""
    moment = value if isinstance(value, datetime) else datetime.fromtimestamp(value / 1000, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@datetime_scalar.value_parser
def parse_datetime(value: Any) -> datetime:
    # A domain error, so that a bad literal is the client's VALIDATION_ERROR, not INTERNAL.
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None:
        raise ValidationError("DateTime must be an ISO-8601 string.")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
