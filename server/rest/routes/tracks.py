"""Seed 001's tracks: list (filtered, sorted, paged over the connection), create, read,
update and delete."""

from server.rest import shapes
from server.rest.mapping import (
    DELETE_TRACK_DOC,
    TRACK_BODY,
    TRACK_DOC,
    TRACK_FILTERS,
    TRACK_LIST,
    TRACKS_DOC,
    UPDATE_TRACK_DOC,
    Route,
    connection_page,
    field_at,
    id_variable,
    no_body,
    track_filter,
    track_input,
)
from server.rest.shapes import REF

TRACKS_TAG = "Tracks"

# fmt: off
TRACK_ROUTES: tuple[Route, ...] = (
    Route("GET", "/tracks", "ListTracks",
        TRACKS_DOC, variables=track_filter, result=connection_page("tracks"), summary="List tracks",
        tag=TRACKS_TAG, query=TRACK_FILTERS, response=TRACK_LIST, page="tracks",
    ),
    Route("POST", "/tracks", "CreateTrack",
        f"mutation CreateTrack($input: CreateTrackInput!) {{ createTrack(input: $input) "
        f"{{ {shapes.TRACK} }} }}",
        variables=lambda c: {"input": track_input(c)},
        result=field_at("createTrack", item=shapes.track),
        summary="Create a track", tag=TRACKS_TAG, status=201,
        body={**TRACK_BODY, "required": ["title"]}, response=REF["Track"],
    ),
    Route("GET", "/tracks/{id}", "GetTrack",
        TRACK_DOC, variables=id_variable, result=field_at("track", item=shapes.track),
        summary="Get a track", tag=TRACKS_TAG, response=REF["Track"],
    ),
    Route("PUT", "/tracks/{id}", "UpdateTrack",
        UPDATE_TRACK_DOC, variables=lambda c: {"id": c.id, "input": track_input(c)},
        result=field_at("updateTrack", item=shapes.track),
        summary="Update a track (only the fields given)", tag=TRACKS_TAG, body=TRACK_BODY,
        response=REF["Track"],
    ),
    Route("DELETE", "/tracks/{id}", "DeleteTrack",
        DELETE_TRACK_DOC, variables=id_variable, result=no_body, summary="Delete a track",
        tag=TRACKS_TAG, status=204,
    ),
)
# fmt: on
