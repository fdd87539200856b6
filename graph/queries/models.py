"""Models: fitted artefacts (the embedding scaler, genre classifiers) stored as JSON text
on `Model` nodes, versioned per kind, with one deployed version per kind."""

MODEL_MAP = "{.id, .kind, .version, .metrics, .created_at, .deployed}"

NEXT_VERSION_QUERY = (
    "MATCH (m:Model {kind: $kind}) RETURN coalesce(max(m.version), 0) + 1 AS version"
)

# `$deploy`: the new version replaces the deployed one in the same write.
CREATE_MODEL_QUERY = (
    "OPTIONAL MATCH (old:Model {kind: $kind}) WHERE $deploy "
    "SET old.deployed = false "
    "WITH count(*) AS cleared "
    "CREATE (m:Model {id: $id, kind: $kind, version: $version, artifact: $artifact, "
    "metrics: $metrics, created_at: $now, deployed: $deploy}) "
    f"RETURN m {MODEL_MAP} AS model"
)

DEPLOYED_MODEL_QUERY = (
    "MATCH (m:Model {kind: $kind}) WHERE m.deployed = true "
    f"RETURN m {MODEL_MAP} AS model, m.artifact AS artifact "
    "ORDER BY m.version DESC LIMIT 1"
)

MODELS_QUERY = (
    f"MATCH (m:Model {{kind: $kind}}) RETURN m {MODEL_MAP} AS model ORDER BY m.version DESC"
)

DEPLOY_MODEL_QUERY = (
    "MATCH (target:Model {kind: $kind, version: $version}) "
    "MATCH (m:Model {kind: $kind}) "
    "SET m.deployed = (m.version = $version) "
    "WITH target, count(m) AS touched "
    f"RETURN target {MODEL_MAP} AS model"
)
