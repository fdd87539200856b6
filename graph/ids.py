"""Node ids: a type prefix and a ULID, e.g. `trk_01JD7Q3N4V3Y0R6K8W9X2Z5A1B`.

The prefix lets `node(id)` find the label without a label-less scan, and the ULID
sorts by creation time, which makes it a natural tie-breaker for keyset cursors.
"""

import re

from ulid import ULID

from music.errors import ValidationError

PREFIXES: dict[str, str] = {
    "Track": "trk",
    "Artist": "art",
    "Album": "alb",
    "Genre": "gen",
    "User": "usr",
    "Collection": "col",
    "ApiKey": "key",
    "TokenFamily": "fam",
    "Job": "job",
    "Model": "mdl",
}
LABELS_BY_PREFIX = {prefix: label for label, prefix in PREFIXES.items()}

_ID_RE = re.compile(r"^([a-z]{3})_[0-9A-HJKMNP-TV-Z]{26}$")


def new_id(label: str) -> str:
    """Return a fresh id for a node of `label`."""
    return f"{PREFIXES[label]}_{ULID()}"


def label_of(node_id: str) -> str | None:
    """Return the label an id belongs to, or None if it is not a well-formed id."""
    match = _ID_RE.match(node_id)
    if match is None:
        return None
    return LABELS_BY_PREFIX.get(match.group(1))


def require_id(node_id: str, label: str, field: str = "id") -> str:
    """Return `node_id` if it is a well-formed id of `label`, else raise VALIDATION_ERROR."""
    if label_of(node_id) != label:
        raise ValidationError(f"'{field}' is not a valid {label} id.", field=field)
    return node_id
