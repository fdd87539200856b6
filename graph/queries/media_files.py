"""The audio file behind a track, for streaming and transcoding."""

TRACK_FILE_QUERY = (
    "MATCH (t:Track {id: $id}) "
    "RETURN t.file_path AS path, t.format AS format, t.content_hash AS sha, "
    "t.duration AS duration"
)
