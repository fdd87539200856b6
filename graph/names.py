"""Name keys: how two spellings of one name become one node."""

import unicodedata


def name_key(name: str) -> str:
    """Fold a display name into the key that merges artists, albums and genres.

    `"Miles Davis"`, `"miles davis "` and `"MILES  DAVIS"` give one key: Unicode
    NFKC, case-folded, with runs of whitespace collapsed and the ends trimmed.
    """
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


def album_key(artist_key: str | None, title: str) -> str:
    """Albums merge by title within their album artist."""
    return f"{artist_key or ''}\x1f{name_key(title)}"
