"""The REST API: one table of routes, each a named GraphQL document plus the mapping of
path, query and body into its variables and of its result into the REST body.

Nothing here decides anything: permissions, validation, limits and events are those of
the GraphQL fields the documents select (which is also where the OpenAPI document reads
each route's auth from). Lists answer `{items, total, limit, offset}`; a route with
`page` set walks the connection's cursors to reach `offset`.
"""

from typing import Any

from server.rest import shapes as s
from server.rest._mapping import (
    _DELETE_DOC,
    _EMBEDDING_TYPES,
    _JOB_ROUTE_BODY,
    _PAIR,
    _SET_FEATURES_DOC,
    _SET_METADATA_DOC,
    _TRACK_DOC,
    _TRACKS_DOC,
    _UPDATE_DOC,
    _UPDATE_ME_DOC,
    _UPSERT_EMBEDDING_DOC,
    EMBEDDING,
    ENTRY_BODY,
    ENTRY_LIST,
    FEATURES_BODY,
    PAGE,
    REGISTERED,
    SIMILAR_LIST,
    STATS,
    TRACK_BODY,
    TRACK_FILTERS,
    TRACK_LIST,
    VECTOR,
    Call,
    Route,
    _album,
    _all,
    _artist,
    _auth,
    _by_source,
    _connection,
    _embedding,
    _embeddings,
    _entries,
    _enum,
    _field,
    _first_entry,
    _job,
    _me,
    _metadata_entry,
    _nothing,
    _offset_page,
    _profile_and_password,
    _range,
    _recommendation_input,
    _refresh_token,
    _registered,
    _stats_doc,
    _track_filter,
    _track_vars,
    _upload,
    _upload_metadata,
    _vector_match,
    _written_embedding,
    features_input,
    q,
    track_input,
)
from server.rest.routes.account import ACCOUNT_ROUTES
from server.rest.routes.media import MEDIA_ROUTES
from server.rest.routes.predictions import PREDICTION_ROUTES
from server.rest.routes.users import USER_ROUTES
from server.rest.shapes import ANY, BOOL, NUM, REF, STR, array, list_of, nullable, obj

T, AF, EMB, META = "Tracks", "Audio features", "Embeddings", "Metadata"
CAT, LIB, MEDIA, AN, PRED, AUTH, USERS, ADMIN = (
    "Catalogue",
    "Library and listening",
    "Media",
    "Analytics",
    "Predictions and models",
    "Auth",
    "Users",
    "Admin",
)


def system_status(data: Any, call: Call) -> dict[str, Any]:
    """The server's status with seed 004's `services`, `database` and `cache` beside our
    fields: each component as a service (`running` or `down`), the graph as the
    database and Redis as the cache (`connected` or `disconnected`)."""
    status = s.snake(data["serverStatus"])
    up = {c["name"]: c["up"] for c in status["components"]}
    return {
        **status,
        "services": [
            {
                "name": c["name"],
                "status": "running" if c["up"] else "down",
                "uptime": status["uptime_seconds"],
            }
            for c in status["components"]
        ],
        "database": {"status": "connected" if up.get("graph") else "disconnected"},
        "cache": {"status": "connected" if up.get("redis") else "disconnected"},
    }


SYSTEM_STATUS = obj(
    {
        "status": STR,
        "version": STR,
        "uptime_seconds": NUM,
        "components": array(obj({"name": STR, "up": BOOL, "detail": nullable("string")})),
        "services": array(obj({"name": STR, "status": _enum("running", "down"), "uptime": NUM})),
        "database": obj({"status": _enum("connected", "disconnected")}),
        "cache": obj({"status": _enum("connected", "disconnected")}),
    },
    required=("status", "version", "components", "services", "database", "cache"),
)


# fmt: off
TRACK_ROUTES: tuple[Route, ...] = (
    # --- tracks ---------------------------------------------------------------------
    Route("GET", "/tracks", "ListTracks",
        _TRACKS_DOC, variables=_track_filter, result=_connection("tracks"), summary="List tracks",
        tag=T, query=TRACK_FILTERS, response=TRACK_LIST, page="tracks",
    ),
    Route("POST", "/tracks", "CreateTrack",
        f"mutation CreateTrack($input: CreateTrackInput!) {{ createTrack(input: $input) "
        f"{{ {s.TRACK} }} }}",
        variables=lambda c: {"input": track_input(c)}, result=_field("createTrack", item=s.track),
        summary="Create a track", tag=T, status=201, body={**TRACK_BODY, "required": ["title"]},
        response=REF["Track"],
    ),
    Route("GET", "/tracks/{id}", "GetTrack",
        _TRACK_DOC, variables=_track_vars, result=_field("track", item=s.track),
        summary="Get a track", tag=T, response=REF["Track"],
    ),
    Route("PUT", "/tracks/{id}", "UpdateTrack",
        _UPDATE_DOC, variables=lambda c: {"id": c.id, "input": track_input(c)},
        result=_field("updateTrack", item=s.track),
        summary="Update a track (only the fields given)", tag=T, body=TRACK_BODY,
        response=REF["Track"],
    ),
    Route("DELETE", "/tracks/{id}", "DeleteTrack",
        _DELETE_DOC, variables=_track_vars, result=_nothing, summary="Delete a track", tag=T,
        status=204,
    ),
    # --- audio features -------------------------------------------------------------
    Route("GET", "/tracks/{id}/audio-features", "GetAudioFeatures",
        f"query GetAudioFeatures($id: ID!) {{ track(id: $id) "
        f"{{ audioFeatures {{ {s.FEATURES} }} }} }}",
        variables=_track_vars, result=_field("track", "audioFeatures", what="audio features"),
        summary="A track's audio features", tag=AF, response=REF["AudioFeatures"],
    ),
    Route("POST", "/tracks/{id}/audio-features", "CreateAudioFeatures",
        _SET_FEATURES_DOC.replace("SetAudioFeatures(", "CreateAudioFeatures(", 1),
        variables=lambda c: {"id": c.id, "input": features_input(c)},
        result=_field("setAudioFeatures", "audioFeatures"),
        summary="Store a track's audio features", tag=AF, status=201, body=FEATURES_BODY,
        response=REF["AudioFeatures"],
    ),
    Route("PUT", "/tracks/{id}/audio-features", "SetAudioFeatures",
        _SET_FEATURES_DOC, variables=lambda c: {"id": c.id, "input": features_input(c)},
        result=_field("setAudioFeatures", "audioFeatures"),
        summary="Replace a track's audio features", tag=AF, body=FEATURES_BODY,
        response=REF["AudioFeatures"],
    ),
    Route("DELETE", "/tracks/{id}/audio-features", "ClearAudioFeatures",
        "mutation ClearAudioFeatures($id: ID!) { clearAudioFeatures(trackId: $id) { id } }",
        variables=_track_vars, result=_nothing, summary="Remove a track's audio features", tag=AF,
        status=204,
    ),
    Route("GET", "/audio-features/search", "SearchAudioFeatures",
        "query SearchAudioFeatures($tempo: FloatRange, $key: String, $mode: String, "
        "$camelot: String, $energy: FloatRange, $danceability: FloatRange, $first: Int, "
        "$offset: Int) { audioFeatureSearch(tempo: $tempo, key: $key, mode: $mode, "
        "camelot: $camelot, energy: $energy, danceability: $danceability, first: $first, "
        f"offset: $offset) {{ total items {{ {s.TRACK} }} }} }}",
        variables=lambda c: {
            "tempo": _range(c, "bpm_min", "bpm_max"),
            "key": c.query.get("key"),
            "mode": c.query.get("mode"),
            "camelot": c.query.get("camelot_key"),
            "energy": _range(c, "energy_min", "energy_max"),
            "danceability": _range(c, "danceability_min", "danceability_max"),
            "first": c.limit,
            "offset": c.offset,
        },
        result=_offset_page("audioFeatureSearch"), summary="Tracks by tempo, key and energy",
        tag=AF,
        query=(
            q("bpm_min", NUM),
            q("bpm_max", NUM),
            q("key", STR),
            q("mode", STR),
            q("camelot_key", STR),
            q("energy_min", NUM),
            q("energy_max", NUM),
            q("danceability_min", NUM),
            q("danceability_max", NUM),
        ),
        response=TRACK_LIST, listed=True,
    ),
    Route("GET", "/audio-features/statistics", "AudioFeatureStatistics",
        "query AudioFeatureStatistics { audioFeatureStatistics { totalAnalyzed "
        "tempoHistogram { min max count } camelotCounts { camelot count } "
        "energyHistogram { min max count } } }",
        variables=lambda c: {}, result=_field("audioFeatureStatistics"),
        summary="Tempo, key and energy statistics", tag=AF, response=STATS,
    ),
    Route("GET", "/tracks/{id}/similar-by-features", "SimilarByFeatures",
        f"query SimilarByFeatures($id: ID!, $first: Int) {{ similarTracks(trackId: $id, "
        f"first: $first) {{ {s.SIMILAR} }} }}",
        variables=lambda c: {"id": c.id, "first": c.query.get("limit", 10)},
        result=_all("similarTracks", s.similar), summary="Similar tracks, with reasons", tag=AF,
        query=(q("limit", {"type": "integer", "minimum": 1, "maximum": 100, "default": 10}),),
        response=SIMILAR_LIST,
    ),
    # --- embeddings -----------------------------------------------------------------
    Route("GET", "/tracks/{id}/embeddings", "ListEmbeddings",
        "query ListEmbeddings($id: ID!) { track(id: $id) { "
        + " ".join(f'{t}: embedding(type: "{t}")' for t in _EMBEDDING_TYPES)
        + " } }",
        variables=_track_vars, result=_embeddings, summary="A track's embeddings", tag=EMB,
        response=list_of(EMBEDDING),
    ),
    Route("POST", "/tracks/{id}/embeddings", "CreateEmbedding",
        _UPSERT_EMBEDDING_DOC.replace("UpsertEmbedding(", "CreateEmbedding(", 1),
        variables=lambda c: {"id": c.id, "type": c.b("type", "audio"), "vector": c.b("vector")},
        result=_written_embedding, summary="Store an embedding", tag=EMB, status=201,
        body=obj({"type": _enum(*_EMBEDDING_TYPES), "vector": VECTOR}, required=("vector",)),
        response=EMBEDDING,
    ),
    Route("GET", "/tracks/{id}/embeddings/{type}", "GetEmbedding",
        "query GetEmbedding($id: ID!, $type: String!) "
        "{ track(id: $id) { embedding(type: $type) } }",
        variables=lambda c: {"id": c.id, "type": c.path["type"]}, result=_embedding,
        summary="One embedding", tag=EMB, response=EMBEDDING,
    ),
    Route("PUT", "/tracks/{id}/embeddings/{type}", "PutEmbedding",
        _UPSERT_EMBEDDING_DOC.replace("UpsertEmbedding(", "PutEmbedding(", 1),
        variables=lambda c: {"id": c.id, "type": c.path["type"], "vector": c.b("vector")},
        result=_written_embedding, summary="Replace an embedding", tag=EMB,
        body=obj({"vector": VECTOR}), response=EMBEDDING,
    ),
    Route("DELETE", "/tracks/{id}/embeddings/{type}", "DeleteEmbedding",
        "mutation DeleteEmbedding($id: ID!, $type: String!) "
        "{ deleteEmbedding(trackId: $id, type: $type) { id } }",
        variables=lambda c: {"id": c.id, "type": c.path["type"]}, result=_nothing,
        summary="Remove an embedding", tag=EMB, status=204,
    ),
    Route("POST", "/embeddings/search", "SearchEmbeddings",
        f"query SearchEmbeddings($vector: [Float!]!, $first: Int) {{ searchByVector("
        f"vector: $vector, first: $first) {{ score track {{ {s.TRACK} }} }} }}",
        variables=lambda c: {"vector": c.b("vector"), "first": c.b("limit", 10)},
        result=_all("searchByVector", _vector_match),
        summary="Tracks nearest to a 64-value audio vector", tag=EMB,
        body=obj(
            {"vector": VECTOR, "limit": {"type": "integer", "minimum": 1, "maximum": 100}},
            required=("vector",),
        ),
        response=list_of(obj({"score": NUM, "track": REF["Track"]})),
    ),
    Route("POST", "/tracks/{id}/embeddings/search-similar", "SearchSimilarEmbeddings",
        f"query SearchSimilarEmbeddings($id: ID!, $first: Int) {{ similarTracks(trackId: $id, "
        f"first: $first) {{ {s.SIMILAR} }} }}",
        variables=lambda c: {"id": c.id, "first": c.b("limit", 10)},
        result=_all("similarTracks", s.similar), summary="Tracks nearest to a track's embedding",
        tag=EMB,
        body=obj({"limit": {"type": "integer", "minimum": 1, "maximum": 100}}, required=()),
        response=SIMILAR_LIST,
    ),
    Route("GET", "/embeddings/statistics", "EmbeddingStatistics",
        "query EmbeddingStatistics { embeddingStatistics { totalTracks "
        "byType { type count dimension } } }",
        variables=lambda c: {}, result=_field("embeddingStatistics"),
        summary="Tracks with each embedding type", tag=EMB, response=STATS,
    ),
    Route("GET", "/tracks/without-embeddings", "TracksWithoutEmbeddings",
        f"query TracksWithoutEmbeddings($first: Int, $offset: Int) {{ tracksWithout("
        f"data: EMBEDDING, first: $first, offset: $offset) {{ total items {{ {s.TRACK} }} }} }}",
        variables=lambda c: {"first": c.limit, "offset": c.offset},
        result=_offset_page("tracksWithout"), summary="Tracks without an audio embedding", tag=EMB,
        response=TRACK_LIST, listed=True,
    ),
    # --- metadata -------------------------------------------------------------------
    Route("GET", "/tracks/{id}/metadata", "ListMetadata",
        f"query ListMetadata($id: ID!, $source: String) {{ track(id: $id) {{ "
        f"metadata(source: $source) {{ {s.ENTRY} }} }} }}",
        variables=lambda c: {"id": c.id, "source": c.query.get("source")},
        result=lambda d, c: _all("metadata")(s.found(d["track"], "track"), c),
        summary="A track's metadata", tag=META, query=(q("source", STR),), response=ENTRY_LIST,
    ),
    Route("POST", "/tracks/{id}/metadata", "CreateMetadata",
        _SET_METADATA_DOC.replace("SetMetadata(", "CreateMetadata(", 1),
        variables=lambda c: {
            "id": c.id,
            "entries": [
                {"key": c.b("key"), "value": c.b("value"), "source": c.b("source", "user")}
            ],
        },
        result=_first_entry, summary="Add a metadata entry", tag=META, status=201, body=ENTRY_BODY,
        response=REF["MetadataEntry"],
    ),
    Route("GET", "/tracks/{id}/metadata/{key}", "GetMetadata",
        f"query GetMetadata($id: ID!, $key: String, $source: String) {{ track(id: $id) {{ "
        f"metadata(key: $key, source: $source) {{ {s.ENTRY} }} }} }}",
        variables=lambda c: {"id": c.id, "key": c.path["key"], "source": c.query.get("source")},
        result=_metadata_entry, summary="One metadata entry", tag=META, query=(q("source", STR),),
        response=REF["MetadataEntry"],
    ),
    Route("PUT", "/tracks/{id}/metadata/{key}", "PutMetadata",
        _SET_METADATA_DOC.replace("SetMetadata(", "PutMetadata(", 1),
        variables=lambda c: {
            "id": c.id,
            "entries": [
                {"key": c.path["key"], "value": c.b("value"), "source": c.b("source", "user")}
            ],
        },
        result=_first_entry, summary="Set a metadata entry", tag=META,
        body=obj({"value": STR, "source": STR}, required=("value",)), response=REF["MetadataEntry"],
    ),
    Route("DELETE", "/tracks/{id}/metadata/{key}", "DeleteMetadata",
        "mutation DeleteMetadata($id: ID!, $key: String!, $source: String) "
        "{ deleteMetadata(trackId: $id, key: $key, source: $source) }",
        variables=lambda c: {"id": c.id, "key": c.path["key"], "source": c.query.get("source")},
        result=_nothing, summary="Remove a metadata entry", tag=META, status=204,
        query=(q("source", STR),),
    ),
    Route("GET", "/metadata/search", "SearchMetadata",
        f"query SearchMetadata($source: String, $key: String, $value: String, $first: Int, "
        f"$offset: Int) {{ metadataSearch(source: $source, key: $key, value: $value, "
        f"first: $first, offset: $offset) {{ total items {{ track {{ {s.TRACK} }} "
        f"entry {{ {s.ENTRY} }} }} }} }}",
        variables=lambda c: {
            "source": c.query.get("source"),
            "key": c.query.get("key"),
            "value": c.query.get("value"),
            "first": c.limit,
            "offset": c.offset,
        },
        result=_offset_page(
            "metadataSearch", lambda m: {"track": s.track(m["track"]), "entry": s.snake(m["entry"])}
        ),
        summary="Metadata entries by source, key or value", tag=META,
        query=(q("source", STR), q("key", STR), q("value", STR)),
        response=list_of(obj({"track": REF["Track"], "entry": REF["MetadataEntry"]})), listed=True,
    ),
    Route("GET", "/tracks/{id}/metadata-by-source", "MetadataBySource",
        f"query MetadataBySource($id: ID!) {{ track(id: $id) {{ metadata {{ {s.ENTRY} }} }} }}",
        variables=_track_vars, result=_by_source,
        summary="A track's metadata as {source: {key: value}}", tag=META,
        response={
            "type": "object",
            "additionalProperties": {"type": "object", "additionalProperties": STR},
        },
    ),
    Route("POST", "/tracks/{id}/metadata-batch", "SetMetadataBatch",
        _SET_METADATA_DOC.replace("SetMetadata(", "SetMetadataBatch(", 1),
        variables=lambda c: {"id": c.id, "entries": _entries(c)},
        result=lambda d, c: _all("setMetadata")(d, c), summary="Set up to 100 entries", tag=META,
        body={
            "type": "object",
            "properties": {
                "entries": array(ENTRY_BODY),
                "source": STR,
                "metadata": {"type": "object", "additionalProperties": STR},
            },
        },
        response=ENTRY_LIST,
    ),
    Route("GET", "/tracks/{id}/metadata-stats", "TrackMetadataStats",
        "query TrackMetadataStats($id: ID!) { metadataStatistics(trackId: $id) { totalEntries "
        "tracksWithMetadata bySource { name count tracks } topKeys { name count } } }",
        variables=_track_vars, result=_field("metadataStatistics"),
        summary="A track's metadata statistics", tag=META, response=STATS,
    ),
    Route("GET", "/metadata/statistics", "MetadataStatistics",
        "query MetadataStatistics { metadataStatistics { totalEntries tracksWithMetadata "
        "bySource { name count tracks } topKeys { name count } } }",
        variables=lambda c: {}, result=_field("metadataStatistics"),
        summary="The catalogue's metadata statistics", tag=META, response=STATS,
    ),
    Route("GET", "/tracks/without-metadata", "TracksWithoutMetadata",
        f"query TracksWithoutMetadata($first: Int, $offset: Int) {{ tracksWithout("
        f"data: METADATA, first: $first, offset: $offset) {{ total items {{ {s.TRACK} }} }} }}",
        variables=lambda c: {"first": c.limit, "offset": c.offset},
        result=_offset_page("tracksWithout"), summary="Tracks without metadata", tag=META,
        response=TRACK_LIST, listed=True,
    ),
)
# fmt: on


# fmt: off
OTHER_ROUTES: tuple[Route, ...] = (
    # --- catalogue, library and listening -------------------------------------------
    Route("GET", "/artists", "ListArtists",
        "query ListArtists($first: Int, $after: String, $filter: ArtistFilter) { artists("
        "first: $first, after: $after, filter: $filter) { totalCount pageInfo { hasNextPage "
        "endCursor } edges { node { id name createdAt } } } }",
        variables=lambda c: {"filter": {"text": c.query.get("q")}},
        result=_connection("artists", _artist), summary="List artists", tag=CAT,
        query=(q("q", STR, "A substring of the name."),),
        response=list_of(obj({"id": STR, "name": STR, "created_at": s.DATETIME})), page="artists",
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
        result=_connection("albums", _album), summary="List albums (filterable by artist)", tag=CAT,
        query=(q("artist_id", STR), q("q", STR)),
        response=list_of(
            obj(
                {
                    "id": STR,
                    "title": STR,
                    "year": nullable("integer"),
                    "created_at": s.DATETIME,
                    "artist": nullable("string"),
                    "artist_id": nullable("string"),
                }
            )
        ),
        page="albums",
    ),
    Route("GET", "/playqueue", "GetPlayQueue",
        f"query GetPlayQueue {{ playQueue {{ {s.QUEUE} }} }}", variables=lambda c: {},
        result=_field("playQueue"), summary="Your play queue", tag=LIB, response=REF["PlayQueue"],
    ),
    Route("POST", "/playqueue", "Enqueue",
        f"mutation Enqueue($ids: [ID!]!, $position: Int) {{ enqueue(trackIds: $ids, "
        f"position: $position) {{ {s.QUEUE} }} }}",
        variables=lambda c: {"ids": c.b("track_ids"), "position": c.b("position")},
        result=_field("enqueue"), summary="Add tracks to your queue", tag=LIB,
        body=obj({"track_ids": _PAIR, "position": nullable("integer")}, required=("track_ids",)),
        response=REF["PlayQueue"],
    ),
    Route("DELETE", "/playqueue", "ClearQueue",
        f"mutation ClearQueue {{ clearQueue {{ {s.QUEUE} }} }}", variables=lambda c: {},
        result=_field("clearQueue"), summary="Empty your queue", tag=LIB, response=REF["PlayQueue"],
    ),
    Route("GET", "/recommendations", "Recommendations",
        f"query Recommendations($input: RecommendationInput!) {{ recommendations(input: $input) "
        f"{{ score track {{ {s.TRACK} }} reasons {{ signal value description }} }} }}",
        variables=_recommendation_input,
        result=lambda d, c: s.page(
            [
                {
                    "score": r["score"],
                    "track": s.track(r["track"]),
                    "reasons": s.snake(r["reasons"]),
                }
                for r in d["recommendations"]
            ],
            len(d["recommendations"]),
            c.limit,
            0,
        ),
        summary="Recommendations for 1 to 5 seeds", tag=LIB,
        query=(
            q("track_id", _PAIR),
            q("artist_id", _PAIR),
            q("genre", _PAIR),
            q("exclude_played", BOOL),
            PAGE[0],
        ),
        response=list_of(obj({"score": NUM, "track": REF["Track"], "reasons": array(ANY)})),
    ),
    Route("POST", "/scan", "ScanLibrary",
        f"mutation ScanLibrary($path: String!, $webhookUrl: String) {{ scanLibrary("
        f"path: $path, webhookUrl: $webhookUrl) {{ {s.JOB} }} }}",
        variables=lambda c: {"path": c.b("path"), "webhookUrl": c.b("webhook_url")}, result=_job,
        summary="Scan a folder under the scan roots (a job)", tag=LIB, status=202,
        body=_JOB_ROUTE_BODY, response=REF["Job"],
    ),
    Route("GET", "/settings", "GetSettings",
        "query GetSettings { settings }", variables=lambda c: {}, result=lambda d, c: d["settings"],
        summary="Your preferences", tag=LIB, response={"type": "object"},
    ),
    Route("PUT", "/settings", "UpdateSettings",
        "mutation UpdateSettings($settings: JSON!) { updateSettings(settings: $settings) }",
        variables=lambda c: {"settings": c.body}, result=lambda d, c: d["updateSettings"],
        summary="Replace your preferences", tag=LIB, body={"type": "object"},
        response={"type": "object"},
    ),
    # --- media ----------------------------------------------------------------------
    Route("POST", "/media/upload", "UploadMedia",
        f"mutation UploadMedia($file: Upload!, $metadata: TrackMetadataInput) {{ uploadTrack("
        f"file: $file, metadata: $metadata) {{ duplicate track {{ {s.TRACK} }} "
        f"job {{ {s.JOB} }} }} }}",
        variables=lambda c: {"file": c.files["file"][0], "metadata": _upload_metadata(c)},
        result=_upload, summary="Upload an audio file (multipart, with optional `metadata` JSON)",
        tag=MEDIA, status=201, multipart=True,
        body={
            "type": "object",
            "properties": {"file": {"type": "string", "format": "binary"}, "metadata": STR},
            "required": ["file"],
        },
        response=obj({"track": REF["Track"], "job": nullable(REF["Job"]), "duplicate": BOOL}),
    ),
    # --- analytics ------------------------------------------------------------------
    Route("GET", "/analytics/stats", "AnalyticsStats",
        _stats_doc("AnalyticsStats"),
        variables=lambda c: {"collectionId": c.query.get("collection_id")},
        result=_field("collectionStats"), summary="Catalogue (or collection) statistics", tag=AN,
        query=(q("collection_id", STR),), response=STATS,
    ),
    # --- predictions and models ----------------------------------------------------
    Route("GET", "/history", "History",
        "query History($first: Int, $after: String) { history(first: $first, after: $after) "
        "{ totalCount pageInfo { hasNextPage endCursor } edges { node { at durationPlayed "
        "track { id title } } } } }",
        variables=lambda c: {}, result=_connection("history", s.snake),
        summary="What you played, newest first", tag=PRED,
        response=list_of(
            obj({"at": s.DATETIME, "duration_played": NUM, "track": obj({"id": STR, "title": STR})})
        ),
        page="history",
    ),
    Route("GET", "/stats", "Stats",
        _stats_doc("Stats"), variables=lambda c: {}, result=_field("collectionStats"),
        summary="Catalogue statistics", tag=PRED, response=STATS,
    ),
    # --- auth and users -------------------------------------------------------------
    Route("POST", "/auth/register", "Register",
        f"mutation Register($input: RegisterInput!) {{ register(input: $input) {{ {s.AUTH} }} }}",
        variables=lambda c: {
            "input": {
                "email": c.b("email"),
                "username": c.b("username"),
                "password": c.b("password"),
            }
        },
        result=_registered,
        summary="Create an account: the user (seed 000's UserResponse), with the session's "
        "tokens beside it", tag=AUTH, status=201,
        body=obj({"email": STR, "username": STR, "password": STR}), response=REGISTERED,
    ),
    Route("POST", "/auth/login", "Login",
        f"mutation Login($input: LoginInput!) {{ login(input: $input) {{ {s.AUTH} }} }}",
        variables=lambda c: {
            "input": {
                "login": c.b("login") or c.b("username") or c.b("email"),
                "password": c.b("password"),
            }
        },
        result=_auth, summary="Sign in with a username or email", tag=AUTH,
        body=obj(
            {"username": STR, "email": STR, "login": STR, "password": STR}, required=("password",)
        ),
        response=REF["AuthTokens"],
    ),
    Route("POST", "/auth/refresh", "Refresh",
        f"mutation Refresh($token: String!) {{ refreshToken(token: $token) {{ {s.AUTH} }} }}",
        variables=_refresh_token, result=_auth,
        summary="Exchange a refresh token (in the body, or as `Authorization: Bearer`)",
        tag=AUTH, body=obj({"refresh_token": STR}, required=()),
        response=REF["AuthTokens"],
    ),
    Route("POST", "/auth/logout", "Logout",
        "mutation Logout($token: String) { logout(refreshToken: $token) }",
        variables=lambda c: {"token": c.b("refresh_token")}, result=_nothing, summary="Sign out",
        tag=AUTH, status=204, body=obj({"refresh_token": STR}, required=()),
    ),
    Route("GET", "/users/me", "Me",
        f"query Me {{ me {{ {s.USER} }} }}", variables=lambda c: {}, result=_me,
        summary="The signed-in user", tag=USERS, response=REF["User"], permission="signed in",
    ),
    Route("PATCH", "/users/me", "UpdateMe",
        _UPDATE_ME_DOC, variables=_profile_and_password,
        result=_field("updateProfile", what="user"),
        summary="Change your username or email (only those given), and your password when "
        "`current_password` and `new_password` are given (other sessions end)",
        tag=USERS,
        body=obj(
            {"username": STR, "email": STR, "current_password": STR, "new_password": STR},
            required=(),
        ),
        response=REF["User"],
    ),
    Route("DELETE", "/users/me", "DeleteAccount",
        "mutation DeleteAccount($password: String!) { deleteAccount(password: $password) }",
        variables=lambda c: {"password": c.b("password")}, result=_nothing,
        summary="Delete your account, with your collections (your password confirms it)",
        tag=USERS, status=204, body=obj({"password": STR}),
    ),
    Route("GET", "/users", "ListUsers",
        f"query ListUsers($first: Int, $after: String) {{ users(first: $first, after: $after) "
        f"{{ totalCount pageInfo {{ hasNextPage endCursor }} edges {{ node {{ {s.USER} }} }} }} }}",
        variables=lambda c: {}, result=_connection("users", s.snake), summary="Every user (admins)",
        tag=USERS, response=list_of(REF["User"]), page="users",
    ),
    # --- admin ----------------------------------------------------------------------
    Route("GET", "/admin/system/status", "SystemStatus",
        f"query SystemStatus {{ serverStatus {{ status version environment uptimeSeconds "
        f"components {{ name up detail }} maintenance {{ {s.MAINTENANCE} }} "
        f"jobs {{ kind status count }} }} }}",
        variables=lambda c: {}, result=system_status,
        summary="Components, maintenance and jobs; seed 004's `services`, `database` and "
        "`cache`", tag=ADMIN, response=SYSTEM_STATUS,
    ),
    Route("GET", "/admin/maintenance", "GetMaintenance",
        f"query GetMaintenance {{ maintenance {{ {s.MAINTENANCE} }} }}", variables=lambda c: {},
        result=_field("maintenance"), summary="Whether maintenance mode is on", tag=ADMIN,
        response=obj(
            {"enabled": BOOL, "message": nullable("string"), "since": nullable(s.DATETIME)}
        ),
    ),
    Route("POST", "/admin/maintenance", "SetMaintenance",
        f"mutation SetMaintenance($enabled: Boolean!, $message: String) {{ maintenance("
        f"enabled: $enabled, message: $message) {{ {s.MAINTENANCE} }} }}",
        variables=lambda c: {"enabled": c.b("enabled"), "message": c.b("message")},
        result=_field("maintenance"), summary="Turn maintenance mode on or off", tag=ADMIN,
        body=obj({"enabled": BOOL, "message": nullable("string")}, required=("enabled",)),
        response=obj(
            {"enabled": BOOL, "message": nullable("string"), "since": nullable(s.DATETIME)}
        ),
    ),
)
# fmt: on


ROUTES: tuple[Route, ...] = (
    *TRACK_ROUTES,
    *OTHER_ROUTES,
    *MEDIA_ROUTES,
    *PREDICTION_ROUTES,
    *USER_ROUTES,
    *ACCOUNT_ROUTES,
)
