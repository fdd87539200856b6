"""Seed 001's artists and albums (albums filterable by artist)."""

from typing import Any

from server.rest import shapes
from server.rest.mapping import (
    Route,
    connection_page,
    param,
)
from server.rest.shapes import STR, list_of, nullable, obj

CATALOGUE_TAG = "Catalogue"


def artist(a: dict[str, Any]) -> Any:
    return shapes.snake(a)


def album(a: dict[str, Any]) -> dict[str, Any]:
    return {
        **shapes.snake({k: v for k, v in a.items() if k != "artist"}),
        "artist": a["artist"]["name"] if a.get("artist") else None,
        "artist_id": a["artist"]["id"] if a.get("artist") else None,
    }


# fmt: off
CATALOGUE_ROUTES: tuple[Route, ...] = (
    Route("GET", "/artists", "ListArtists",
        "query ListArtists($first: Int, $after: String, $filter: ArtistFilter) { artists("
        "first: $first, after: $after, filter: $filter) { totalCount pageInfo { hasNextPage "
        "endCursor } edges { node { id name createdAt } } } }",
        variables=lambda c: {"filter": {"text": c.query.get("q")}},
        result=connection_page("artists", artist), summary="List artists", tag=CATALOGUE_TAG,
        query=(param("q", STR, "A substring of the name."),),
        response=list_of(obj({"id": STR, "name": STR, "created_at": shapes.DATETIME})),
        page="artists",
    ),
    Route("GET", "/albums", "ListAlbums",
        "query ListAlbums($first: Int, $after: String, $filter: AlbumFilter) { albums("
        "first: $first, after: $after, filter: $filter) { totalCount pageInfo { hasNextPage "
        "endCursor } edges { node { id title year createdAt artist { id name } } } } }",
        variables=lambda c: {
            "filter": {
                k: v
                for k, v in {"artistId": c.query.get("artist_id"), "text": c.query.get("q")}.items()
                if v
            }
        },
        result=connection_page("albums", album), summary="List albums (filterable by artist)",
        tag=CATALOGUE_TAG,
        query=(param("artist_id", STR), param("q", STR)),
        response=list_of(
            obj(
                {
                    "id": STR,
                    "title": STR,
                    "year": nullable("integer"),
                    "created_at": shapes.DATETIME,
                    "artist": nullable("string"),
                    "artist_id": nullable("string"),
                }
            )
        ),
        page="albums",
    ),
)
# fmt: on
