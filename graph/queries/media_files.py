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
