"""Versioned model artefacts (JSON) in the graph, shared by every API and worker process."""

import json
from typing import Any

from graph.catalog_writes import now_ms
from graph.engine import GraphEngine, Row
from graph.ids import new_id
from graph.queries import models as q
from music.errors import NotFoundError


def _row(model: Row) -> Row:
    out = dict(model)
    out["metrics"] = json.loads(out["metrics"]) if out.get("metrics") else {}
    return out


async def next_version(engine: GraphEngine, kind: str) -> int:
    rows = await engine.read("model_next_version", q.NEXT_VERSION_QUERY, {"kind": kind})
    return int(rows[0]["version"])


async def save(
    engine: GraphEngine,
    kind: str,
    version: int,
    artifact: str,
    metrics: dict[str, Any],
    *,
    deploy: bool,
) -> Row:
    """Store a fitted artefact as version `version` of `kind`, deployed if asked."""
    rows = await engine.write(
        "model_create",
        q.CREATE_MODEL_QUERY,
        {
            "id": new_id("Model"),
            "kind": kind,
            "version": version,
            "artifact": artifact,
            "metrics": json.dumps(metrics),
            "now": now_ms(),
            "deploy": deploy,
        },
    )
    return _row(rows[0]["model"])


async def deployed(engine: GraphEngine, kind: str) -> tuple[Row, str] | None:
    """The deployed model of `kind` and its artefact (JSON text), or None."""
    rows = await engine.read("model_deployed", q.DEPLOYED_MODEL_QUERY, {"kind": kind})
    if not rows:
        return None
    return _row(rows[0]["model"]), str(rows[0]["artifact"])


async def list_models(engine: GraphEngine, kind: str) -> list[Row]:
    rows = await engine.read("models", q.MODELS_QUERY, {"kind": kind})
    return [_row(r["model"]) for r in rows]


async def deploy(engine: GraphEngine, kind: str, version: int) -> Row:
    """Make `version` the one in use; NOT_FOUND when there is no such version."""
    rows = await engine.write(
        "model_deploy", q.DEPLOY_MODEL_QUERY, {"kind": kind, "version": version}
    )
    if not rows:
        raise NotFoundError(f"There is no {kind} model version {version}.", version=version)
    return _row(rows[0]["model"])
