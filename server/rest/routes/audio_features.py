"""Seed 001's audio features of a track: read, store, replace and remove (the embedding
made from them and its similarity edges go too), search by tempo, key and energy,
statistics, and similar tracks with reasons."""

from typing import Any

from music.features import FEATURE_BOUNDS
from music.keys import MODES, PITCH_CLASSES
from server.rest import shapes
from server.rest.mapping import (
    SIMILAR_LIST,
    STATS,
    TRACK_LIST,
    Call,
    Route,
    enum_schema,
    field_at,
    id_variable,
    no_body,
    offset_page,
    param,
    range_of,
    whole_list,
)
from server.rest.shapes import NUM, REF, STR

FEATURES_TAG = "Audio features"


def features_input(call: Call) -> dict[str, Any]:
    body = call.body if isinstance(call.body, dict) else {}
    camel = {
        "tempo_confidence": "tempoConfidence",
        "key_confidence": "keyConfidence",
        "spectral_centroid": "spectralCentroid",
        "spectral_rolloff": "spectralRolloff",
        "spectral_bandwidth": "spectralBandwidth",
        "spectral_flatness": "spectralFlatness",
        "zero_crossing_rate": "zeroCrossingRate",
        "onset_rate": "onsetRate",
        "dynamic_range": "dynamicRange",
        "mfcc_mean": "mfccMean",
    }
    out: dict[str, Any] = {
        camel.get(str(k), str(k)): v for k, v in body.items() if k in camel or k in PLAIN_FEATURES
    }
    if "bpm" in body and "tempo" not in out:
        out["tempo"] = body["bpm"]
    return out


PLAIN_FEATURES = ("tempo", "key", "mode", "loudness", "lufs", "energy", "danceability")


def bounded(bounds: tuple[float, float]) -> dict[str, Any]:
    return {"type": "number", "minimum": bounds[0], "maximum": bounds[1]}


FEATURES_BODY = {
    "type": "object",
    "properties": {
        **{n: bounded(FEATURE_BOUNDS["tempo"]) for n in ("tempo", "bpm")},
        "key": enum_schema(*PITCH_CLASSES),
        "mode": enum_schema(*MODES),
        **{n: bounded(FEATURE_BOUNDS[n]) for n in ("energy", "danceability")},
        **{n: NUM for n in ("loudness", "lufs", "spectral_centroid", "onset_rate")},
    },
    # `tempo` or its alias `bpm`: the GraphQL input requires the tempo.
    "required": [],
}


SET_FEATURES_DOC = (
    "mutation SetAudioFeatures($id: ID!, $input: AudioFeaturesInput!) "
    "{ setAudioFeatures(trackId: $id, input: $input) "
    f"{{ audioFeatures {{ {shapes.FEATURES} }} }} }}"
)


# fmt: off
FEATURE_ROUTES: tuple[Route, ...] = (
    Route("GET", "/tracks/{id}/audio-features", "GetAudioFeatures",
        f"query GetAudioFeatures($id: ID!) {{ track(id: $id) "
        f"{{ audioFeatures {{ {shapes.FEATURES} }} }} }}",
        variables=id_variable, result=field_at("track", "audioFeatures", what="audio features"),
        summary="A track's audio features", tag=FEATURES_TAG, response=REF["AudioFeatures"],
    ),
    Route("POST", "/tracks/{id}/audio-features", "CreateAudioFeatures",
        SET_FEATURES_DOC.replace("SetAudioFeatures(", "CreateAudioFeatures(", 1),
        variables=lambda c: {"id": c.id, "input": features_input(c)},
        result=field_at("setAudioFeatures", "audioFeatures"),
        summary="Store a track's audio features", tag=FEATURES_TAG, status=201, body=FEATURES_BODY,
        response=REF["AudioFeatures"],
    ),
    Route("PUT", "/tracks/{id}/audio-features", "SetAudioFeatures",
        SET_FEATURES_DOC, variables=lambda c: {"id": c.id, "input": features_input(c)},
        result=field_at("setAudioFeatures", "audioFeatures"),
        summary="Replace a track's audio features", tag=FEATURES_TAG, body=FEATURES_BODY,
        response=REF["AudioFeatures"],
    ),
    Route("DELETE", "/tracks/{id}/audio-features", "ClearAudioFeatures",
        "mutation ClearAudioFeatures($id: ID!) { clearAudioFeatures(trackId: $id) { id } }",
        variables=id_variable, result=no_body, summary="Remove a track's audio features",
        tag=FEATURES_TAG,
        status=204,
    ),
    Route("GET", "/audio-features/search", "SearchAudioFeatures",
        "query SearchAudioFeatures($tempo: FloatRange, $key: String, $mode: String, "
        "$camelot: String, $energy: FloatRange, $danceability: FloatRange, $first: Int, "
        "$offset: Int) { audioFeatureSearch(tempo: $tempo, key: $key, mode: $mode, "
        "camelot: $camelot, energy: $energy, danceability: $danceability, first: $first, "
        f"offset: $offset) {{ total items {{ {shapes.TRACK} }} }} }}",
        variables=lambda c: {
            "tempo": range_of(c, "bpm_min", "bpm_max"),
            "key": c.query.get("key"),
            "mode": c.query.get("mode"),
            "camelot": c.query.get("camelot_key"),
            "energy": range_of(c, "energy_min", "energy_max"),
            "danceability": range_of(c, "danceability_min", "danceability_max"),
            "first": c.limit,
            "offset": c.offset,
        },
        result=offset_page("audioFeatureSearch"), summary="Tracks by tempo, key and energy",
        tag=FEATURES_TAG,
        query=(
            param("bpm_min", NUM),
            param("bpm_max", NUM),
            param("key", STR),
            param("mode", STR),
            param("camelot_key", STR),
            param("energy_min", NUM),
            param("energy_max", NUM),
            param("danceability_min", NUM),
            param("danceability_max", NUM),
        ),
        response=TRACK_LIST, listed=True,
    ),
    Route("GET", "/audio-features/statistics", "AudioFeatureStatistics",
        "query AudioFeatureStatistics { audioFeatureStatistics { totalAnalyzed "
        "tempoHistogram { min max count } camelotCounts { camelot count } "
        "energyHistogram { min max count } } }",
        variables=lambda c: {}, result=field_at("audioFeatureStatistics"),
        summary="Tempo, key and energy statistics", tag=FEATURES_TAG, response=STATS,
    ),
    Route("GET", "/tracks/{id}/similar-by-features", "SimilarByFeatures",
        f"query SimilarByFeatures($id: ID!, $first: Int) {{ similarTracks(trackId: $id, "
        f"first: $first) {{ {shapes.SIMILAR} }} }}",
        variables=lambda c: {"id": c.id, "first": c.query.get("limit", 10)},
        result=whole_list("similarTracks", shapes.similar), summary="Similar tracks, with reasons",
        tag=FEATURES_TAG,
        query=(param("limit", {"type": "integer", "minimum": 1, "maximum": 100, "default": 10}),),
        response=SIMILAR_LIST,
    ),
)
# fmt: on
