"""Stars and ratings: (User)-[:STARRED {at}]->(Track|Album|Artist) and
(User)-[:RATED {rating, at}]->(Track|Album|Artist). The label comes from LABELS only."""

LABELS = ("Track", "Album", "Artist")
MAX_STARRED = 500


def star(label: str) -> str:
    assert label in LABELS
    return (
        f"MATCH (u:User {{id: $user}}) UNWIND $ids AS id MATCH (n:{label} {{id: id}}) "
        "MERGE (u)-[s:STARRED]->(n) ON CREATE SET s.at = $now RETURN count(n) AS starred"
    )


def unstar(label: str) -> str:
    assert label in LABELS
    return (
        f"MATCH (u:User {{id: $user}})-[s:STARRED]->(n:{label}) WHERE n.id IN $ids "
        "DELETE s RETURN count(n) AS unstarred"
    )


def starred(label: str) -> str:
    assert label in LABELS
    return (
        f"MATCH (u:User {{id: $user}})-[s:STARRED]->(n:{label}) "
        f"RETURN n.id AS id, s.at AS at ORDER BY s.at DESC LIMIT {MAX_STARRED}"
    )


def rate(label: str) -> str:
    assert label in LABELS
    return (
        f"MATCH (u:User {{id: $user}}) MATCH (n:{label} {{id: $id}}) "
        "MERGE (u)-[r:RATED]->(n) SET r.rating = $rating, r.at = $now RETURN n.id AS id"
    )


def unrate(label: str) -> str:
    assert label in LABELS
    return (
        f"MATCH (u:User {{id: $user}}) MATCH (n:{label} {{id: $id}}) "
        "OPTIONAL MATCH (u)-[r:RATED]->(n) DELETE r RETURN n.id AS id"
    )
