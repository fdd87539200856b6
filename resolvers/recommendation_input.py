"""A RecommendationInput, checked and read into the request graph/exploration serves.

Errors name the input's fields as the client wrote them (`input.first`,
`input.min.tempo`); the limits are the search's own (graph/exploration.py).
"""

import math
from collections.abc import Mapping
from typing import Any

from graph.exploration import (
    ATTRIBUTES,
    DEFAULT_FIRST,
    MAX_EXCLUDED,
    MAX_FIRST,
    MAX_SEEDS,
    WHOLE_ATTRIBUTES,
    RecommendationRequest,
)
from graph.ids import require_id
from graph.names import name_key
from music.errors import ValidationError

Attributes = dict[str, float]


def _attributes(values: Mapping[str, Any] | None, name: str) -> Attributes:
    """The attributes set in one of `target`, `min`, `max`; VALIDATION_ERROR when one is
    out of its range (key: pitch class 0-11, mode: 0 minor or 1 major)."""
    clean: Attributes = {}
    for attribute, value in (values or {}).items():
        if value is None:
            continue
        if attribute not in ATTRIBUTES:
            raise ValidationError(f"'{name}.{attribute}' is not an attribute.", field=name)
        low, high, _ = ATTRIBUTES[attribute]
        number = float(value)
        where = f"input.{name}.{attribute}"
        if not math.isfinite(number) or not low <= number <= high:
            raise ValidationError(f"'{where}' must be between {low:g} and {high:g}.", field=where)
        if attribute in WHOLE_ATTRIBUTES and number != int(number):
            raise ValidationError(f"'{where}' must be a whole number.", field=where)
        clean[attribute] = number
    return clean


def _check_bounds(low: Attributes, high: Attributes) -> None:
    for attribute in low.keys() & high.keys():
        if low[attribute] > high[attribute]:
            field_name = f"input.min.{attribute}"
            raise ValidationError(f"'{field_name}' is above the maximum.", field=field_name)


def parse_recommendation_input(
    values: Mapping[str, Any], viewer: str | None
) -> RecommendationRequest:
    """Check a RecommendationInput (snake_case keys); VALIDATION_ERROR when it is off."""
    tracks = list(dict.fromkeys(values.get("seed_track_ids") or []))
    artists = list(dict.fromkeys(values.get("seed_artist_ids") or []))
    genres = list(dict.fromkeys(name_key(g) for g in values.get("seed_genres") or []))
    if not 1 <= len(tracks) + len(artists) + len(genres) <= MAX_SEEDS:
        message = f"Give 1 to {MAX_SEEDS} seeds in all (tracks, artists and genres)."
        raise ValidationError(message, field="input")
    for track_id in tracks:
        require_id(track_id, "Track", "input.seedTrackIds")
    for artist_id in artists:
        require_id(artist_id, "Artist", "input.seedArtistIds")
    if not all(genres):
        raise ValidationError("A seed genre is empty.", field="input.seedGenres")
    first = DEFAULT_FIRST if values.get("first") is None else int(values["first"])
    if not 1 <= first <= MAX_FIRST:
        raise ValidationError(f"'first' must be between 1 and {MAX_FIRST}.", field="input.first")
    excluded = frozenset(values.get("exclude_track_ids") or [])
    if len(excluded) > MAX_EXCLUDED:
        message = f"At most {MAX_EXCLUDED} excluded tracks."
        raise ValidationError(message, field="input.excludeTrackIds")
    low = _attributes(values.get("min"), "min")
    high = _attributes(values.get("max"), "max")
    _check_bounds(low, high)
    exclude_played = bool(values.get("exclude_played"))
    if exclude_played and viewer is None:
        raise ValidationError("'excludePlayed' needs a signed-in caller.", field="input")
    target = _attributes(values.get("target"), "target")
    return RecommendationRequest(
        tracks, artists, genres, first, excluded, target, low, high, exclude_played
    )
