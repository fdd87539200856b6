"""Scrobbles, the play queue, playlists (our collections) and similarity."""

from datetime import UTC, datetime
from typing import Any

from server.subsonic import shapes
from server.subsonic.app import Call
from server.subsonic.browsing import ARTIST_DOC, album_with_songs, walk
from server.subsonic.responses import MISSING_PARAMETER, NOT_FOUND, SubsonicError

RECORD_PLAY_DOC = (
    "mutation SubsonicScrobble($id: ID!, $at: DateTime) { recordPlay(trackId: $id, at: $at) {"
    " at } }"
)
QUEUE_FIELDS = f"currentIndex positionMs updatedAt tracks {{ {shapes.TRACK_FIELDS} }}"
QUEUE_DOC = f"query SubsonicQueue {{ playQueue {{ {QUEUE_FIELDS} }} me {{ username }} }}"
SET_QUEUE_DOC = (
    "mutation SubsonicSaveQueue($ids: [ID!], $index: Int, $position: Int) {"
    " setPlayQueue(trackIds: $ids, currentIndex: $index, positionMs: $position) {"
    " currentIndex } }"
)
PLAYLIST_FIELDS = "id name description public trackCount createdAt updatedAt owner { username }"
PLAYLISTS_DOC = (
    "query SubsonicPlaylists($after: String) { collections(first: 100, after: $after) {"
    f" pageInfo {{ hasNextPage endCursor }} edges {{ node {{ {PLAYLIST_FIELDS} }} }} }} }}"
)
PLAYLIST_DOC = (
    f"query SubsonicPlaylist($id: ID!) {{ collection(id: $id) {{ {PLAYLIST_FIELDS}"
    f" tracks(first: 100) {{ edges {{ node {{ {shapes.TRACK_FIELDS} }} }} }} }} }}"
)
CREATE_PLAYLIST_DOC = (
    "mutation SubsonicCreatePlaylist($name: String!) {"
    " createCollection(input: {name: $name}) { id } }"
)
ADD_DOC = (
    "mutation SubsonicAddToPlaylist($id: ID!, $ids: [ID!]!) {"
    " addToCollection(id: $id, trackIds: $ids) { id } }"
)
REMOVE_DOC = (
    "mutation SubsonicRemoveFromPlaylist($id: ID!, $ids: [ID!]!) {"
    " removeFromCollection(id: $id, trackIds: $ids) { id } }"
)
UPDATE_PLAYLIST_DOC = (
    "mutation SubsonicUpdatePlaylist($id: ID!, $input: UpdateCollectionInput!) {"
    " updateCollection(id: $id, input: $input) { id } }"
)
DELETE_PLAYLIST_DOC = (
    "mutation SubsonicDeletePlaylist($id: ID!) { deleteCollection(id: $id) { deletedId } }"
)
SIMILAR_DOC = (
    "query SubsonicSimilar($id: ID!, $first: Int!) { similarTracks(trackId: $id, first: $first)"
    f" {{ score track {{ {shapes.TRACK_FIELDS} }} }} }}"
)
PATH_DOC = (
    "query SubsonicSonicPath($from: ID!, $to: ID!, $steps: Int!) {"
    " sonicPath(fromId: $from, toId: $to, steps: $steps, mode: HARMONIC) {"
    f" tracks {{ {shapes.TRACK_FIELDS} }} transitions {{ score }} }} }}"
)
TOP_DOC = (
    "query SubsonicTopSongs($text: String!) { artists(first: 5, filter: {text: $text}) {"
    " edges { node { id name tracks(first: 100) { edges { node {"
    f" {shapes.TRACK_FIELDS} playCount }} }} }} }} }} }} }}"
)


async def scrobble(call: Call) -> None:
    """A submission is a play (recordPlay); "now playing" notifications are accepted."""
    ids = call.all("id")
    if not ids:
        raise SubsonicError(MISSING_PARAMETER, "Required parameter is missing: id.")
    if not call.flag("submission", True):
        return None
    times = call.all("time")
    for i, track_id in enumerate(ids):
        at = None
        if i < len(times) and times[i].isdigit():
            at = datetime.fromtimestamp(int(times[i]) / 1000, UTC).isoformat()
        await call.graphql(RECORD_PLAY_DOC, {"id": track_id, "at": at})
    return None


async def _queue(call: Call) -> tuple[dict[str, Any], dict[str, Any]]:
    """The queue as GraphQL gives it, and in Subsonic's PlayQueue shape."""
    data = await call.graphql(QUEUE_DOC)
    queue = data["playQueue"]
    tracks, index = queue["tracks"], queue["currentIndex"]
    shape: dict[str, Any] = {
        "position": queue["positionMs"],
        "username": (data.get("me") or {}).get("username"),
        "changed": shapes.created(queue.get("updatedAt")),
        "changedBy": call.get("c") or "apollonia",
        "entry": [shapes.song(t) for t in tracks],
    }
    if index is not None and index < len(tracks):
        shape["current"] = tracks[index]["id"]
    return queue, shape


async def get_play_queue(call: Call) -> dict[str, Any]:
    _, shape = await _queue(call)
    return {"playQueue": shape}


async def get_play_queue_by_index(call: Call) -> dict[str, Any]:
    """The indexBasedQueue extension: `currentIndex`, as a track may be queued twice."""
    queue, shape = await _queue(call)
    shape.pop("current", None)
    shape["currentIndex"] = queue["currentIndex"]
    return {"playQueueByIndex": shape}


async def save_play_queue(call: Call) -> None:
    ids = call.all("id")
    current = call.get("current")
    index = ids.index(current) if current in ids else (0 if ids else None)
    position = call.integer("position", 0, 0, 2**31 - 1)
    await call.graphql(SET_QUEUE_DOC, {"ids": ids, "index": index, "position": position})
    return None


async def save_play_queue_by_index(call: Call) -> None:
    ids = call.all("id")
    index = call.integer("currentIndex", 0, 0, max(0, len(ids) - 1)) if ids else None
    position = call.integer("position", 0, 0, 2**31 - 1)
    await call.graphql(SET_QUEUE_DOC, {"ids": ids, "index": index, "position": position})
    return None


async def get_playlists(call: Call) -> dict[str, Any]:
    nodes = await walk(call, PLAYLISTS_DOC, "collections", {}, 1_000)
    return {"playlists": {"playlist": [shapes.playlist(n) for n in nodes]}}


async def _playlist(call: Call, playlist_id: str) -> dict[str, Any]:
    data = await call.graphql(PLAYLIST_DOC, {"id": playlist_id})
    node = data["collection"]
    if node is None:
        raise SubsonicError(NOT_FOUND, "Playlist not found.")
    return node  # type: ignore[no-any-return]


async def get_playlist(call: Call) -> dict[str, Any]:
    node = await _playlist(call, call.required("id"))
    tracks = [e["node"] for e in node["tracks"]["edges"]]
    return {"playlist": shapes.playlist(node, tracks)}


async def create_playlist(call: Call) -> dict[str, Any]:
    """A new playlist (`name`), or with `playlistId` the songs of one replaced."""
    songs = call.all("songId")
    playlist_id = call.get("playlistId")
    if playlist_id:
        node = await _playlist(call, playlist_id)
        old = [e["node"]["id"] for e in node["tracks"]["edges"]]
        if old:
            await call.graphql(REMOVE_DOC, {"id": playlist_id, "ids": old})
    else:
        created = await call.graphql(CREATE_PLAYLIST_DOC, {"name": call.required("name")})
        playlist_id = created["createCollection"]["id"]
    if songs:
        await call.graphql(ADD_DOC, {"id": playlist_id, "ids": songs})
    node = await _playlist(call, playlist_id)
    return {"playlist": shapes.playlist(node, [e["node"] for e in node["tracks"]["edges"]])}


async def update_playlist(call: Call) -> None:
    playlist_id = call.required("playlistId")
    changes: dict[str, Any] = {}
    if call.get("name") is not None:
        changes["name"] = call.get("name")
    if call.get("comment") is not None:
        changes["description"] = call.get("comment")
    if call.get("public") is not None:
        changes["public"] = call.flag("public", False)
    if changes:
        await call.graphql(UPDATE_PLAYLIST_DOC, {"id": playlist_id, "input": changes})
    removed = {int(i) for i in call.all("songIndexToRemove") if i.isdigit()}
    if removed:
        node = await _playlist(call, playlist_id)
        ids = [e["node"]["id"] for i, e in enumerate(node["tracks"]["edges"]) if i in removed]
        if ids:
            await call.graphql(REMOVE_DOC, {"id": playlist_id, "ids": ids})
    added = call.all("songIdToAdd")
    if added:
        await call.graphql(ADD_DOC, {"id": playlist_id, "ids": added})
    return None


async def delete_playlist(call: Call) -> None:
    await call.graphql(DELETE_PLAYLIST_DOC, {"id": call.required("id")})
    return None


async def _seed_track(call: Call, seed: str) -> str:
    """A track id for a song, album or artist id (its first track)."""
    if seed.startswith("trk_"):
        return seed
    if seed.startswith("art_"):
        data = await call.graphql(ARTIST_DOC, {"id": seed})
        albums = ((data.get("artist") or {}).get("albums") or {}).get("edges") or []
        seed = albums[0]["node"]["id"] if albums else ""
    if seed.startswith("alb_"):
        album = await album_with_songs(call, seed)
        if album["song"]:
            return str(album["song"][0]["id"])
    raise SubsonicError(NOT_FOUND, "Nothing to start from.")


async def _similar(call: Call, default: int) -> list[dict[str, Any]]:
    seed = await _seed_track(call, call.required("id"))
    count = call.integer("count", default, 1, 100)
    data = await call.graphql(SIMILAR_DOC, {"id": seed, "first": count})
    return [{**shapes.song(r["track"]), "similarity": r["score"]} for r in data["similarTracks"]]


async def get_similar_songs2(call: Call) -> dict[str, Any]:
    songs = await _similar(call, 50)
    for entry in songs:
        entry.pop("similarity")
    return {"similarSongs2": {"song": songs}}


async def get_similar_songs(call: Call) -> dict[str, Any]:
    return {"similarSongs": (await get_similar_songs2(call))["similarSongs2"]}


async def get_sonic_similar_tracks(call: Call) -> dict[str, Any]:
    """sonicSimilarity: the SIMILAR_TO neighbours, each with its cosine as `similarity`."""
    return {"sonicSimilarTracks": {"sonicMatch": await _similar(call, 10)}}


async def find_sonic_path(call: Call) -> dict[str, Any]:
    """sonicSimilarity: a HARMONIC path (Camelot-compatible keys, close tempi) between two
    songs; each entry's `similarity` is the score of the step into it (1 for the first)."""
    start, end = call.required("startSongId"), call.required("endSongId")
    steps = call.integer("count", 10, 3, 50)
    data = await call.graphql(PATH_DOC, {"from": start, "to": end, "steps": steps})
    path = data["sonicPath"]
    scores = [1.0] + [t["score"] for t in path["transitions"]]
    matches = [
        {**shapes.song(t), "similarity": scores[i] if i < len(scores) else 0.0}
        for i, t in enumerate(path["tracks"])
    ]
    return {"sonicPath": {"sonicMatch": matches}}


async def get_top_songs(call: Call) -> dict[str, Any]:
    """The artist's most played tracks (yours; everyone's for admins)."""
    name = call.required("artist")
    count = call.integer("count", 50, 1, 100)
    data = await call.graphql(TOP_DOC, {"text": name})
    tracks: list[dict[str, Any]] = []
    for edge in data["artists"]["edges"]:
        if edge["node"]["name"].lower() == name.lower():
            tracks = [e["node"] for e in edge["node"]["tracks"]["edges"]]
            break
    tracks.sort(key=lambda t: t.get("playCount") or 0, reverse=True)
    return {"topSongs": {"song": [shapes.song(t) for t in tracks[:count]]}}


HANDLERS = {
    "scrobble": scrobble,
    "getPlayQueue": get_play_queue,
    "savePlayQueue": save_play_queue,
    "getPlayQueueByIndex": get_play_queue_by_index,
    "savePlayQueueByIndex": save_play_queue_by_index,
    "getPlaylists": get_playlists,
    "getPlaylist": get_playlist,
    "createPlaylist": create_playlist,
    "updatePlaylist": update_playlist,
    "deletePlaylist": delete_playlist,
    "getSimilarSongs": get_similar_songs,
    "getSimilarSongs2": get_similar_songs2,
    "getSonicSimilarTracks": get_sonic_similar_tracks,
    "findSonicPath": find_sonic_path,
    "getTopSongs": get_top_songs,
}
