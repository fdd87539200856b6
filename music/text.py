"""Control characters in text: refused from clients, dropped from file tags.

FalkorDB 4.22's redis-server dies (SIGSEGV in `EnforceUniqueEntity`) when a property
under a uniqueness constraint receives a string holding U+0001; see
tests/test_falkordb_control_char_crash.py for the three-statement reproduction. No name,
e-mail, tag or free-text field needs a control character, so they are refused for all
of them (C0, DEL and C1), and files' tags are cleaned of them. Free text that may
span lines (descriptions, metadata values) keeps tab, line feed and carriage return.

The engines check every string parameter of every write as the last line of defence
(`find_control`), so a field that forgets its check still cannot reach the database
with one.
"""

import re
from collections.abc import Mapping
from typing import Any

from music.errors import ValidationError

# C0 controls, DEL and C1 controls.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# The same less tab, line feed and carriage return: multi-line free text.
_CONTROL_MULTILINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# What a write may carry: multi-line text, plus U+001F, the separator our own composite
# keys use (graph/names.py `album_key`); clients cannot send it (check_text refuses it).
_CONTROL_IN_WRITES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1e\x7f-\x9f]")


def has_control(text: str, *, multiline: bool = False) -> bool:
    """True when `text` holds a control character (tab and newlines allowed if `multiline`)."""
    pattern = _CONTROL_MULTILINE if multiline else _CONTROL
    return pattern.search(text) is not None


def check_text(text: str, field: str, *, multiline: bool = False) -> str:
    """`text` unchanged, or VALIDATION_ERROR on `field` if it holds a control character."""
    if has_control(text, multiline=multiline):
        raise ValidationError(f"'{field}' must not contain control characters.", field=field)
    return text


def clean_text(text: str) -> str:
    """`text` without its control characters (tags read from files: kept, not refused).
    Those that separate words (tab, line breaks, the information separators) become a
    space so that words stay apart; the others are dropped."""
    return _CONTROL.sub(lambda m: " " if m.group().isspace() else "", text)


def contains(value: Any, pattern: re.Pattern[str]) -> bool:
    """True when a parameter value (strings nested in lists and maps) matches `pattern`."""
    if isinstance(value, str):
        return pattern.search(value) is not None
    if isinstance(value, Mapping):
        return any(contains(v, pattern) for v in value.values())
    if isinstance(value, list | tuple):
        if value and isinstance(value[0], float):
            return False  # a vector: numbers only
        return any(contains(v, pattern) for v in value)
    return False


def find_control(value: Any) -> bool:
    """True when a parameter value holds a control character that no write should carry."""
    return contains(value, _CONTROL_IN_WRITES)


def refuse_control(params: Mapping[str, Any] | None) -> None:
    """VALIDATION_ERROR when a write's parameters hold a control character."""
    if params and find_control(params):
        raise ValidationError("Text must not contain control characters.")
