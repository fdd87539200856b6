"""The audio file behind a track, for streaming and transcoding."""

TRACK_FILE_QUERY = (
    "MATCH (t:Track {id: $id}) "
    "RETURN t.file_path AS path, t.format AS format, t.content_hash AS sha, "
    "t.duration AS duration"
)

# Files whose artwork stands for an album or an artist: a few of their tracks'.
ALBUM_FILES_QUERY = (
    "MATCH (t:Track)-[:ON]->(:Album {id: $id}) WHERE t.file_path IS NOT NULL "
    "RETURN t.file_path AS path ORDER BY t.file_path LIMIT 5"
)
ARTIST_FILES_QUERY = (
    "MATCH (t:Track)-[:BY]->(:Artist {id: $id}) WHERE t.file_path IS NOT NULL "
    "RETURN t.file_path AS path ORDER BY t.file_path LIMIT 5"
)

# Demo tracks loaded without audio (by an older `apollonia demo`) get their files.
DEMO_WITHOUT_FILE_QUERY = (
    "MATCH (t:Track) WHERE t.file_path IS NULL AND 'demo' IN t.tags "
    "RETURN t.id AS id, t.title AS title"
)
ATTACH_FILE_QUERY = (
    "MATCH (t:Track {id: $id}) WHERE t.file_path IS NULL "
    "SET t += $props, t.updated_at = $now RETURN t.id AS id"
)
