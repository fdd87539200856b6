"""The GraphQL SDL, one .graphql file per domain: the contract with clients."""

from pathlib import Path

SCHEMA_DIR = Path(__file__).parent


def load_sdl() -> str:
    """Every .graphql file of this folder: base, then catalog (which declares the root
    types that the other domains extend), then the rest by name."""
    first = {"base": 0, "catalog": 1}
    files = sorted(SCHEMA_DIR.glob("*.graphql"), key=lambda p: (first.get(p.stem, 2), p.stem))
    return "\n".join(p.read_text() for p in files)
