"""Integer sort keys, kept on every node a page can be sorted by, and their collation.

A page must cost the same at 100k tracks as at 1k. FalkorDB serves an integer range
from its index (a 50-row window: 0.64 ms at 100k tracks) but sorts a whole label for
`ORDER BY` on a string, and ignores `<` on an indexed string (FalkorDB#2239). So every
sort order gets an integer key that never contradicts it: if a row sorts before
another, its key is lower or equal. Pages then scan integer windows (graph/pages.py)
and sort only the window.

- Titles and names: the collation text (accents, case and punctuation folded, see
  `collation`), its first 10 characters packed in base 38; ties and longer titles
  are ordered by the full collation text (`*_sort`) and then the id.
- Numbers (creation time, year, duration): the value in the high bits and, below, the
  part of the id that orders ties, so that a thousand tracks of one year do not share
  a key: the key order is exactly (value, id) up to ids minted in the same
  millisecond-ish slice.
"""

import unicodedata
from collections.abc import Mapping
from typing import Any

# Every key stays below 2**53: FalkorDB's range index holds doubles, and two keys one
# double apart would compare equal there (measured: a window `< k + 1` lost key k).
KEY_BITS = 53
PACKED_CHARS = 10  # 38**10 < 2**53
_BASE = 38  # space, 0-9, a-z, and one symbol for every other character
_CROCKFORD = {c: i for i, c in enumerate("0123456789ABCDEFGHJKMNPQRSTVWXYZ")}
ULID_BITS = 128
YEAR_SHIFT = 39  # 14 bits of year above 39 bits of the id
DURATION_SHIFT = 23  # 30 bits of milliseconds above 23 bits of the id
CREATED_SHIFT = 12  # 41 bits of epoch milliseconds above 12 bits about the id


def collation(text: str) -> str:
    """The text titles and names sort by: compatibility-decomposed, accents dropped,
    case-folded, every run of punctuation or space one space. "Éclair!" and "eclair"
    are equal; ties are then broken by id."""
    decomposed = unicodedata.normalize("NFKD", text)
    letters = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    cleaned = "".join(c if c.isalnum() else " " for c in letters)
    return " ".join(cleaned.split())


def _symbol(char: str) -> int:
    if char == " ":
        return 0
    if "0" <= char <= "9":
        return 1 + ord(char) - ord("0")
    if "a" <= char <= "z":
        return 11 + ord(char) - ord("a")
    return _BASE - 1  # any other letter sorts after z, as its code point does


def text_key(text: str) -> int:
    """An integer in [0, 38**10) ordered like the collation text (ties allowed)."""
    value = 0
    padded = collation(text)[:PACKED_CHARS].ljust(PACKED_CHARS)
    for char in padded:
        value = value * _BASE + _symbol(char)
    return value


def _ulid(node_id: str) -> int:
    value = 0
    for char in node_id[-26:]:
        value = (value << 5) | _CROCKFORD[char]
    return value


def _id_bits(node_id: str, bits: int) -> int:
    """The leading `bits` of the id's ULID: they order ids as the ids do (ties allowed)."""
    return _ulid(node_id) >> (ULID_BITS - bits)


def year_key(year: int | None, node_id: str) -> int:
    return ((year or 0) << YEAR_SHIFT) | _id_bits(node_id, YEAR_SHIFT)


def _millis(duration: float) -> int:
    return 1 + min(round(duration * 1000), (1 << 30) - 2)


def duration_key(duration: float | None, node_id: str) -> int:
    millis = 0 if duration is None else _millis(duration)
    return (millis << DURATION_SHIFT) | _id_bits(node_id, DURATION_SHIFT)


KeyRange = tuple[int | None, int | None]


def year_key_range(low: int | None, high: int | None) -> KeyRange:
    """The lowest and highest `year_key` of a node whose year lies in [low, high]
    (None: unbounded on that side)."""
    return (
        None if low is None else low << YEAR_SHIFT,
        None if high is None else ((high + 1) << YEAR_SHIFT) - 1,
    )


def duration_key_range(low: float | None, high: float | None) -> KeyRange:
    """The lowest and highest `duration_key` of a node whose duration lies in [low,
    high]: milliseconds round monotonically, so no duration inside maps outside."""
    return (
        None if low is None else _millis(low) << DURATION_SHIFT,
        None if high is None else ((_millis(high) + 1) << DURATION_SHIFT) - 1,
    )


def created_key(created_at: int, node_id: str) -> int:
    """Creation time, then (for one import's rows, which share it) the id: its mint
    time after `created_at` (0-127 ms) and 5 bits of its random part."""
    ulid = _ulid(node_id)
    minted = ulid >> 80
    offset = min(max(minted - created_at, 0), 127)
    random5 = (ulid >> 75) & 0x1F
    return (created_at << CREATED_SHIFT) | (offset << 5) | random5


def track_keys(node_id: str, props: Mapping[str, Any], created_at: int | None) -> dict[str, Any]:
    """The sort-key properties for the track fields present in `props` (and the
    creation time when given): to SET along with them."""
    keys: dict[str, Any] = {}
    if "title" in props and props["title"] is not None:
        keys["title_sort"] = collation(props["title"])
        keys["sk_title"] = text_key(props["title"])
    if "year" in props or created_at is not None:
        keys["sk_year"] = year_key(props.get("year"), node_id)
    if "duration" in props or created_at is not None:
        keys["sk_duration"] = duration_key(props.get("duration"), node_id)
    if created_at is not None:
        keys["sk_created"] = created_key(created_at, node_id)
    return keys


def name_keys(name: str) -> dict[str, Any]:
    """`{sort, sk}` of an artist name or album title (as a relation row's fields)."""
    return {"sort": collation(name), "sk": text_key(name)}
