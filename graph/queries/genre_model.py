"""The genre classifier's side of the graph: labelled tracks to learn from, unlabelled
tracks to label, and the predicted IN_GENRE edges.

A genre edge whose `source` is "model" is a prediction; any other (null for older data,
"user" from the catalogue, a tag) is a person's word. Training reads only the latter, and
a prediction is written only onto a track with no genre edge at all, so no model ever
overrides or learns from itself.

Pages are keyset pages of analysed tracks by id, limited before the genre match, so each
page costs its own size whatever the catalogue holds. A track outside the page's interest
still comes back (with a null vector) to carry the cursor forward.
"""

# Tracks with a raw embedding, with their human genres; `raw` is null when there are none.
TRAINING_PAGE_QUERY = (
    "MATCH (t:Track) WHERE t.embedding_raw IS NOT NULL AND t.id > $after "
    "WITH t ORDER BY t.id LIMIT $first "
    "OPTIONAL MATCH (t)-[r:IN_GENRE]->(g:Genre) WHERE coalesce(r.source, 'user') <> 'model' "
    "WITH t, collect(g.name) AS genres "
    "RETURN t.id AS id, genres, "
    "CASE WHEN size(genres) = 0 THEN null ELSE t.embedding_raw END AS raw "
    "ORDER BY id"
)

# Tracks with a raw embedding; `raw` is null for those that already have a genre.
UNLABELLED_PAGE_QUERY = (
    "MATCH (t:Track) WHERE t.embedding_raw IS NOT NULL AND t.id > $after "
    "WITH t ORDER BY t.id LIMIT $first "
    "OPTIONAL MATCH (t)-[r:IN_GENRE]->(:Genre) "
    "WITH t, count(r) AS genres "
    "RETURN t.id AS id, CASE WHEN genres = 0 THEN t.embedding_raw ELSE null END AS raw "
    "ORDER BY id"
)

# rows: [{id, key, name, genre_id, confidence}]. The genre is merged by its folded name,
# as catalogue writes do; a track that has gained any genre edge meanwhile is skipped, so
# a retried batch or a human edit in between never gets a second genre from the model.
WRITE_PREDICTIONS_QUERY = (
    "UNWIND $rows AS row "
    "MATCH (t:Track {id: row.id}) "
    "OPTIONAL MATCH (t)-[existing:IN_GENRE]->(:Genre) "
    "WITH t, row, count(existing) AS genres "
    "WHERE genres = 0 "
    "MERGE (g:Genre {name_key: row.key}) "
    "ON CREATE SET g.id = row.genre_id, g.name = row.name "
    "MERGE (t)-[r:IN_GENRE]->(g) "
    "SET r.source = 'model', r.confidence = row.confidence, r.model_version = $version, "
    "t.genre_keys = [row.key] "  # its only genre (catalog_writes.BACKFILL_GENRE_KEYS_QUERY)
    "RETURN count(r) AS written"
)

# The predicted genre edges of some tracks (for checks and clients that want the score).
PREDICTED_GENRES_QUERY = (
    "UNWIND $ids AS id MATCH (t:Track {id: id})-[r:IN_GENRE]->(g:Genre) "
    "WHERE r.source = 'model' "
    "RETURN id, g.name AS genre, r.confidence AS confidence, r.model_version AS version "
    "ORDER BY id"
)
