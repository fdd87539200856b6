"""Browsing: artists, albums, songs, genres, the folder view and album lists."""

import random
from collections.abc import Callable
from typing import Any

from server.subsonic import shapes
from server.subsonic.app import Call
from server.subsonic.responses import NOT_FOUND, SubsonicError

PAGE = 100
MAX_ROWS = 2_000  # rows walked for a list that has to be ordered or sampled here

ARTISTS_DOC = (
    "query SubsonicArtists($after: String) { artists(first: 100, after: $after) {"
    " pageInfo { hasNextPage endCursor }"
    " edges { node { id name albums(first: 1) { totalCount } } } } }"
)
ARTIST_DOC = (
    "query SubsonicArtist($id: ID!) { artist(id: $id) { id name"
    f" albums(first: 100) {{ totalCount edges {{ node {{ {shapes.ALBUM_FIELDS} }} }} }} }} }}"
)
ALBUM_DOC = (
    f"query SubsonicAlbum($id: ID!) {{ album(id: $id) {{ {shapes.ALBUM_FIELDS}"
    f" tracks(first: 100) {{ edges {{ node {{ {shapes.TRACK_FIELDS} }} }} }} }} }}"
)
SONG_DOC = f"query SubsonicSong($id: ID!) {{ track(id: $id) {{ {shapes.TRACK_FIELDS} }} }}"
ALBUMS_DOC = (
    "query SubsonicAlbums($after: String, $filter: AlbumFilter) {"
    " albums(first: 100, after: $after, filter: $filter) { pageInfo { hasNextPage endCursor }"
    f" edges {{ node {{ {shapes.ALBUM_FIELDS} }} }} }} }}"
)
TRACKS_DOC = (
    "query SubsonicTracks($after: String, $filter: TrackFilter) {"
    " tracks(first: 100, after: $after, filter: $filter) { pageInfo { hasNextPage endCursor }"
    f" edges {{ node {{ {shapes.TRACK_FIELDS} }} }} }} }}"
)
GENRES_DOC = "query SubsonicGenres { genres { name } }"
GENRE_COUNTS_DOC = (
    "query SubsonicGenreCounts { collectionStats { genreDistribution { genre { name } count } } }"
)


async def walk(
    call: Call, document: str, field: str, variables: dict[str, Any], limit: int
) -> list[dict[str, Any]]:
    """Up to `limit` nodes of a connection, following its cursors."""
    nodes: list[dict[str, Any]] = []
    after: str | None = None
    while len(nodes) < limit:
        data = await call.graphql(document, {**variables, "after": after})
        page = data[field]
        nodes += [edge["node"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    return nodes[:limit]


async def _artist_index(call: Call) -> list[dict[str, Any]]:
    artists = await walk(call, ARTISTS_DOC, "artists", {}, MAX_ROWS)
    index: dict[str, list[dict[str, Any]]] = {}
    for node in sorted(artists, key=lambda a: a["name"].lower()):
        count = node["albums"]["totalCount"]
        index.setdefault(shapes.index_letter(node["name"]), []).append(shapes.artist(node, count))
    return [{"name": letter, "artist": entries} for letter, entries in sorted(index.items())]


async def get_artists(call: Call) -> dict[str, Any]:
    index = await _artist_index(call)
    return {"artists": {"ignoredArticles": shapes.IGNORED_ARTICLES, "index": index}}


async def get_indexes(call: Call) -> dict[str, Any]:
    index = await _artist_index(call)
    return {
        "indexes": {"ignoredArticles": shapes.IGNORED_ARTICLES, "lastModified": 0, "index": index}
    }


async def artist_node(call: Call, artist_id: str) -> dict[str, Any]:
    data = await call.graphql(ARTIST_DOC, {"id": artist_id})
    if data["artist"] is None:
        raise SubsonicError(NOT_FOUND, "Artist not found.")
    return data["artist"]  # type: ignore[no-any-return]


async def album_with_songs(call: Call, album_id: str) -> dict[str, Any]:
    data = await call.graphql(ALBUM_DOC, {"id": album_id})
    if data["album"] is None:
        raise SubsonicError(NOT_FOUND, "Album not found.")
    node = data["album"]
    return shapes.album(node, [e["node"] for e in node["tracks"]["edges"]])


async def get_artist(call: Call) -> dict[str, Any]:
    node = await artist_node(call, call.required("id"))
    albums = [shapes.album(e["node"]) for e in node["albums"]["edges"]]
    return {"artist": {**shapes.artist(node, node["albums"]["totalCount"]), "album": albums}}


async def get_album(call: Call) -> dict[str, Any]:
    return {"album": await album_with_songs(call, call.required("id"))}


async def get_song(call: Call) -> dict[str, Any]:
    data = await call.graphql(SONG_DOC, {"id": call.required("id")})
    if data["track"] is None:
        raise SubsonicError(NOT_FOUND, "Song not found.")
    return {"song": shapes.song(data["track"])}


async def get_music_directory(call: Call) -> dict[str, Any]:
    """The folder view: an artist is a folder of albums, an album a folder of songs."""
    folder_id = call.required("id")
    if folder_id.startswith("art_"):
        node = await artist_node(call, folder_id)
        children = [shapes.album(e["node"]) for e in node["albums"]["edges"]]
        return {"directory": {"id": node["id"], "name": node["name"], "child": children}}
    if folder_id.startswith("alb_"):
        album = await album_with_songs(call, folder_id)
        return {
            "directory": {
                "id": album["id"],
                "parent": album.get("artistId"),
                "name": album["name"],
                "child": album["song"],
            }
        }
    raise SubsonicError(NOT_FOUND, "Directory not found.")


def _years(call: Call) -> tuple[int, int]:
    return call.integer("fromYear", 0, 0, 9999), call.integer("toYear", 9999, 0, 9999)


async def get_album_list2(call: Call) -> dict[str, Any]:
    kind = call.required("type")
    size, offset = call.integer("size", 10, 1, 500), call.integer("offset", 0, 0, MAX_ROWS)
    albums: list[dict[str, Any]]
    if kind == "byGenre":
        genre = call.required("genre")
        tracks = await walk(call, TRACKS_DOC, "tracks", {"filter": {"genre": genre}}, MAX_ROWS)
        seen: dict[str, dict[str, Any]] = {}
        for track in tracks:
            if track.get("album"):
                seen.setdefault(track["album"]["id"], track["album"])
        albums = list(seen.values())
    else:
        variables: dict[str, Any] = {}
        if kind == "byYear":
            low, high = _years(call)
            variables["filter"] = {"year": {"min": min(low, high), "max": max(low, high)}}
        albums = await walk(call, ALBUMS_DOC, "albums", variables, MAX_ROWS)
    order: dict[str, Callable[[list[dict[str, Any]]], list[dict[str, Any]]]] = {
        "random": lambda rows: random.sample(rows, len(rows)),
        "newest": lambda rows: sorted(rows, key=lambda a: str(a["createdAt"]), reverse=True),
        "alphabeticalByName": lambda rows: sorted(rows, key=lambda a: a["title"].lower()),
        "alphabeticalByArtist": lambda rows: sorted(
            rows, key=lambda a: ((a.get("artist") or {}).get("name", "").lower(), a["title"])
        ),
        "byYear": lambda rows: sorted(rows, key=lambda a: a.get("year") or 0),
    }
    if kind in order:
        albums = order[kind](albums)
    return {"albumList2": {"album": [shapes.album(a) for a in albums[offset : offset + size]]}}


async def get_random_songs(call: Call) -> dict[str, Any]:
    size = call.integer("size", 10, 1, 500)
    track_filter: dict[str, Any] = {}
    if call.get("genre"):
        track_filter["genre"] = call.get("genre")
    if call.get("fromYear") or call.get("toYear"):
        low, high = _years(call)
        track_filter["year"] = {"min": low, "max": high}
    tracks = await walk(call, TRACKS_DOC, "tracks", {"filter": track_filter or None}, MAX_ROWS)
    chosen = random.sample(tracks, min(size, len(tracks)))
    return {"randomSongs": {"song": [shapes.song(t) for t in chosen]}}


async def get_songs_by_genre(call: Call) -> dict[str, Any]:
    genre = call.required("genre")
    count, offset = call.integer("count", 10, 1, 500), call.integer("offset", 0, 0, MAX_ROWS)
    variables = {"filter": {"genre": genre}}
    tracks = await walk(call, TRACKS_DOC, "tracks", variables, offset + count)
    return {"songsByGenre": {"song": [shapes.song(t) for t in tracks[offset:]]}}


async def get_genres(call: Call) -> dict[str, Any]:
    data = await call.graphql(GENRES_DOC)
    counts: dict[str, int] = {}
    try:
        stats = await call.graphql(GENRE_COUNTS_DOC)
        for row in stats["collectionStats"]["genreDistribution"]:
            counts[row["genre"]["name"]] = row["count"]
    except SubsonicError:
        pass  # counts are a nicety: a caller who may not read statistics still browses
    genres = [
        {"value": g["name"], "songCount": counts.get(g["name"], 0), "albumCount": 0}
        for g in data["genres"]
    ]
    return {"genres": {"genre": genres}}


async def get_album_list(call: Call) -> dict[str, Any]:
    return {"albumList": (await get_album_list2(call))["albumList2"]}


HANDLERS = {
    "getArtists": get_artists,
    "getIndexes": get_indexes,
    "getArtist": get_artist,
    "getAlbum": get_album,
    "getSong": get_song,
    "getMusicDirectory": get_music_directory,
    "getAlbumList2": get_album_list2,
    "getAlbumList": get_album_list,
    "getRandomSongs": get_random_songs,
    "getSongsByGenre": get_songs_by_genre,
    "getGenres": get_genres,
}
