"""Tracks backed by audio files: found by content hash (uploads) or by path (scans)."""

from graph.queries.catalog import TRACK_MAP

TRACK_BY_HASH_QUERY = (
    "MATCH (t:Track {content_hash: $sha}) "
    f"RETURN t {TRACK_MAP} AS row ORDER BY t.created_at LIMIT 1"
)

# Every file-backed track whose path starts with `$prefix` (a scanned folder).
FILES_UNDER_QUERY = (
    "MATCH (t:Track) WHERE t.file_path STARTS WITH $prefix "
    "RETURN t.id AS id, t.file_path AS path, t.file_size AS size, "
    "t.file_mtime_ns AS mtime_ns, coalesce(t.missing, false) AS missing"
)

MARK_MISSING_QUERY = (
    "UNWIND $paths AS path MATCH (t:Track {file_path: path}) "
    "SET t.missing = true, t.updated_at = $now RETURN count(t) AS marked"
)

# A re-read file: new tags' scalars and file facts; relations are replaced by the caller.
UPDATE_FILE_QUERY = (
    "MATCH (t:Track {file_path: $path}) "
    "SET t += $props, t.missing = false, t.updated_at = $now "
    f"RETURN t {TRACK_MAP} AS row"
)
