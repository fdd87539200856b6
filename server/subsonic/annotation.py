"""Stars and ratings: star, unstar, getStarred2 (and getStarred), setRating."""

from typing import Any

from server.subsonic import shapes
from server.subsonic.app import Call
from server.subsonic.responses import MISSING_PARAMETER, SubsonicError

STAR_DOC = "mutation SubsonicStar($ids: [ID!]!) { star(ids: $ids) }"
UNSTAR_DOC = "mutation SubsonicUnstar($ids: [ID!]!) { unstar(ids: $ids) }"
RATING_DOC = (
    "mutation SubsonicRating($id: ID!, $rating: Int!) { setRating(id: $id, rating: $rating) }"
)
STARRED_DOC = (
    f"query SubsonicStarred {{ starred {{ tracks {{ {shapes.TRACK_FIELDS} }}"
    f" albums {{ {shapes.ALBUM_FIELDS} }} artists {{ id name }} }} }}"
)


def _ids(call: Call) -> list[str]:
    ids = [*call.all("id"), *call.all("albumId"), *call.all("artistId")]
    if not ids:
        raise SubsonicError(MISSING_PARAMETER, "Required parameter is missing: id.")
    return ids


async def star(call: Call) -> None:
    await call.graphql(STAR_DOC, {"ids": _ids(call)})
    return None


async def unstar(call: Call) -> None:
    await call.graphql(UNSTAR_DOC, {"ids": _ids(call)})
    return None


async def set_rating(call: Call) -> None:
    rating = call.integer("rating", -1, -1, 5)
    if rating < 0:
        raise SubsonicError(MISSING_PARAMETER, "Required parameter is missing: rating.")
    await call.graphql(RATING_DOC, {"id": call.required("id"), "rating": rating})
    return None


async def _starred(call: Call) -> dict[str, Any]:
    data = (await call.graphql(STARRED_DOC))["starred"]
    return {
        "artist": [shapes.artist(a) for a in data["artists"]],
        "album": [shapes.album(a) for a in data["albums"]],
        "song": [shapes.song(t) for t in data["tracks"]],
    }


async def get_starred2(call: Call) -> dict[str, Any]:
    return {"starred2": await _starred(call)}


async def get_starred(call: Call) -> dict[str, Any]:
    return {"starred": await _starred(call)}


HANDLERS = {
    "star": star,
    "unstar": unstar,
    "setRating": set_rating,
    "getStarred2": get_starred2,
    "getStarred": get_starred,
}
