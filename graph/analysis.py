"""Audio features and embeddings computed elsewhere: validated, stored on the Track,
read in batches, and compared to explain why two tracks are similar.

Camelot and Open Key codes are derived here from key and mode (music/keys.py), never
taken from a client.
"""

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from graph.engine import GraphEngine, Row
from graph.queries import analysis as q
from music.errors import NotFoundError, ValidationError
from music.features import FEATURE_NAMES, FEATURES, finite_number
from music.keys import camelot, compatible, open_key

MAX_FIRST = 100
MAX_DIMS = 1024
PENDING = "PENDING"


def feature_props(clean: Mapping[str, Any]) -> dict[str, Any]:
    """The `af_` properties of features already checked (music.features.clean_features),
    with Camelot and Open Key derived from key and mode; every feature not given is None."""
    props: dict[str, Any] = dict.fromkeys(FEATURE_NAMES)
    props |= {f.name: clean.get(f.name) for f in FEATURES if not f.derived}
    key, mode = props["key"], props["mode"]
    if key is not None and mode is not None:
        props |= {"camelot": camelot(key, mode), "open_key": open_key(key, mode)}
    return {q.FEATURE_PROPS[name]: value for name, value in props.items()}


def _features(stored: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Feature dict (snake_case) from `af_` properties; None when never set."""
    if not stored or stored.get(q.FEATURE_PROPS["tempo"]) is None:
        return None
    return {name: stored.get(prop) for name, prop in q.FEATURE_PROPS.items()}


async def analysis_by_track(engine: GraphEngine, ids: Sequence[str]) -> list[Row | None]:
    """`{features, status}` of each track (None for a track that does not exist)."""
    rows = await engine.read(
        "analysis_by_track", q.ANALYSIS_BY_TRACK_QUERY, {"ids": list(dict.fromkeys(ids))}
    )
    found = {
        r["key"]: {
            "features": _features(r["features"]),
            "status": r["status"] or PENDING,
            "error": (
                {"code": r["error_code"], "message": r["error_message"]}
                if r["error_code"]
                else None
            ),
        }
        for r in rows
    }
    return [found.get(i) for i in ids]


async def set_features(engine: GraphEngine, track_id: str, clean: Mapping[str, Any]) -> Row:
    """Replace a track's features (checked by music.features.clean_features); the
    track's row as the catalogue reads it."""
    props = feature_props(clean)
    rows = await engine.write(
        "set_audio_features", q.SET_FEATURES_QUERY, {"id": track_id, "props": props}
    )
    if not rows:
        raise NotFoundError("No such track.", id=track_id)
    return dict(rows[0]["row"])


def check_embedding_type(embedding_type: str) -> str:
    if embedding_type not in q.EMBEDDING_TYPES:
        names = ", ".join(sorted(q.EMBEDDING_TYPES))
        raise ValidationError(f"'type' must be one of {names}.", field="type")
    return embedding_type


async def embeddings_by_track(
    engine: GraphEngine, keys: Sequence[tuple[str, str]]
) -> list[list[float] | None]:
    """The vector of each (track id, type) key; one query per type in the batch."""
    by_type: dict[str, list[str]] = defaultdict(list)
    for track_id, embedding_type in keys:
        by_type[check_embedding_type(embedding_type)].append(track_id)
    found: dict[tuple[str, str], list[float]] = {}
    for embedding_type, ids in by_type.items():
        query = q.embeddings_by_track(embedding_type)
        rows = await engine.read("embeddings_by_track", query, {"ids": list(dict.fromkeys(ids))})
        for r in rows:
            if r["vector"] is not None:
                found[(r["key"], embedding_type)] = [float(v) for v in r["vector"]]
    return [found.get((track_id, t)) for track_id, t in keys]


async def upsert_embedding(
    engine: GraphEngine, track_id: str, embedding_type: str, vector: Sequence[float]
) -> Row:
    """Store a track's vector of one type. Its dimension is fixed for the type: 64 for
    "audio", else the dimension of the vectors already stored (1 to MAX_DIMS)."""
    check_embedding_type(embedding_type)
    values = [finite_number(v, "vector") for v in vector]
    fixed = q.EMBEDDING_TYPES[embedding_type]
    if fixed is None:
        rows = await engine.read(
            "embedding_dims", q.embedding_dims(embedding_type), {"id": track_id}
        )
        fixed = int(rows[0]["dims"]) if rows else None
    if fixed is not None and len(values) != fixed:
        raise ValidationError(
            f"A '{embedding_type}' embedding has {fixed} dimensions.", field="vector"
        )
    if not 1 <= len(values) <= MAX_DIMS:
        raise ValidationError(f"'vector' must hold 1 to {MAX_DIMS} values.", field="vector")
    if not any(values):
        # Neo4j's cosine index leaves an all-zero vector out and refuses it as a query:
        # the track would silently never be found. Refused on every engine.
        raise ValidationError("'vector' must not be all zeros.", field="vector")
    rows = await engine.write(
        "upsert_embedding",
        q.set_embedding(embedding_type, engine.dialect),
        {"id": track_id, "vector": values},
    )
    if not rows:
        raise NotFoundError("No such track.", id=track_id)
    return dict(rows[0]["row"])


async def remove_embedding(engine: GraphEngine, track_id: str, embedding_type: str) -> Row:
    """Drop a track's vector of one type (nothing happens if it has none)."""
    check_embedding_type(embedding_type)
    rows = await engine.write(
        "remove_embedding", q.remove_embedding(embedding_type), {"id": track_id}
    )
    if not rows:
        raise NotFoundError("No such track.", id=track_id)
    return dict(rows[0]["row"])


async def similar_tracks(
    engine: GraphEngine, track_ids: Sequence[str], first: int, min_score: float
) -> list[list[Row]]:
    """The `first` most similar tracks of each track, best first, each as
    `{track, score, reasons}`, in one query; lines up with `track_ids`."""
    if not 0 < first <= MAX_FIRST:
        raise ValidationError(f"'first' must be between 1 and {MAX_FIRST}.", field="first")
    rows = await engine.read(
        "similar_with_features",
        q.SIMILAR_WITH_FEATURES_QUERY,
        {"ids": list(dict.fromkeys(track_ids)), "first": first, "min_score": float(min_score)},
    )
    found: dict[str, list[Row]] = {}
    for r in rows:
        mine = _features(r["features"])
        found[r["id"]] = [
            {
                "track": n["track"],
                "score": float(n["score"]),
                "reasons": reasons(mine, _features(n["features"])),
            }
            for n in r["neighbours"]
        ]
    return [found.get(i, []) for i in track_ids]


def _camelot_distance(a: str, b: str) -> int:
    """Steps round the Camelot wheel, plus one for a change of letter (major/minor)."""
    step = abs(int(a[:-1]) - int(b[:-1]))
    return min(step, 12 - step) + (a[-1] != b[-1])


def reasons(mine: Mapping[str, Any] | None, theirs: Mapping[str, Any] | None) -> list[Row]:
    """Why two tracks go together, feature by feature; only what both tracks have."""
    if mine is None or theirs is None:
        return []
    found: list[Row] = []
    ta, tb = float(mine["tempo"]), float(theirs["tempo"])
    diffs = {"": abs(ta - tb), " (half/double tempo)": min(abs(2 * ta - tb), abs(ta - 2 * tb))}
    note, diff = min(diffs.items(), key=lambda kv: kv[1])
    found.append(
        {
            "feature": "tempo",
            "value": round(diff, 2),
            "description": f"{ta:g} and {tb:g} BPM are {diff:.1f} BPM apart{note}.",
        }
    )
    ca, cb = mine.get("camelot"), theirs.get("camelot")
    if ca and cb:
        steps = _camelot_distance(ca, cb)
        fit = "compatible" if cb in compatible(ca) else "not harmonically compatible"
        found.append(
            {
                "feature": "key",
                "value": float(steps),
                "description": f"{ca} and {cb}: {steps} step(s) on the Camelot wheel, {fit}.",
            }
        )
    ea, eb = mine.get("energy"), theirs.get("energy")
    if ea is not None and eb is not None:
        gap = abs(float(ea) - float(eb))
        found.append(
            {
                "feature": "energy",
                "value": round(gap, 3),
                "description": f"Estimated energy differs by {gap:.2f} (0-1 scale).",
            }
        )
    ma, mb = mine.get("mfcc_mean"), theirs.get("mfcc_mean")
    if ma and mb and len(ma) == len(mb):
        norm = math.sqrt(sum(x * x for x in ma)) * math.sqrt(sum(y * y for y in mb))
        if norm > 0:
            cosine = sum(x * y for x, y in zip(ma, mb, strict=True)) / norm
            found.append(
                {
                    "feature": "timbre",
                    "value": round(cosine, 4),
                    "description": f"Timbre (cosine of MFCC means) is {cosine:.2f}.",
                }
            )
    return found


async def statistics(engine: GraphEngine) -> Row:
    """Tempo (10 BPM buckets), Camelot key and energy (0.1 buckets) of analysed tracks."""
    total = await engine.read("analysis_total", q.TOTAL_ANALYSED_QUERY)
    tempo = await engine.read("analysis_tempo_histogram", q.TEMPO_HISTOGRAM_QUERY)
    keys = await engine.read("analysis_camelot_counts", q.CAMELOT_COUNTS_QUERY)
    energy_rows = await engine.read("analysis_energy_histogram", q.ENERGY_HISTOGRAM_QUERY)
    energy: dict[int, int] = defaultdict(int)
    for r in energy_rows:
        energy[min(int(r["bucket"]), 9)] += int(r["n"])  # energy 1.0 goes in the top bucket
    return {
        "total_analyzed": int(total[0]["total"]) if total else 0,
        "tempo_histogram": [
            {
                "min": 10.0 * int(r["bucket"]),
                "max": 10.0 * int(r["bucket"]) + 10.0,
                "count": int(r["n"]),
            }
            for r in tempo
        ],
        "camelot_counts": [{"camelot": r["camelot"], "count": int(r["n"])} for r in keys],
        "energy_histogram": [
            {"min": b / 10, "max": (b + 1) / 10, "count": n} for b, n in sorted(energy.items())
        ],
    }
