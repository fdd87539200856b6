"""The audio work a request may start, for resolvers (resolvers/context.py MediaApi).

The API process stays lean: decoding, analysis and the genre model (librosa, scipy,
scikit-learn, soundfile) are imported inside the methods below, on the first upload or
prediction, never at start-up (the import-linter contracts in pyproject.toml name these
imports as the only way from the API into the audio stack). Path and URL checks are plain
Python and imported eagerly.
"""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from graph.engine import GraphEngine, Row
from workers import library_scan, webhooks

CHUNK = 1 << 20


async def chunks_of(upload: Any) -> AsyncIterator[bytes]:
    """The bytes of a Starlette UploadFile, a megabyte at a time."""
    while chunk := await upload.read(CHUNK):
        yield chunk


class MediaService:
    """Uploads, predictions and scan or webhook checks, with this server's settings."""

    def __init__(self, settings: Any) -> None:
        self.settings = settings

    @property
    def _media_dir(self) -> Path:
        return Path(self.settings.resolved_media_dir)

    async def ingest_upload(
        self, engine: GraphEngine, upload: Any, metadata: dict[str, Any] | None
    ) -> tuple[Row, bool]:
        from workers import uploads

        row, created = await uploads.ingest_upload(
            engine,
            chunks_of(upload),
            getattr(upload, "filename", None),
            metadata,
            self._media_dir,
            self.settings.max_upload_bytes,
        )
        return row, bool(created)

    async def predict_upload(self, engine: GraphEngine, upload: Any) -> dict[str, Any]:
        from workers import tasks_genre

        result: dict[str, Any] = await tasks_genre.predict_upload(
            engine, chunks_of(upload), self._media_dir, self.settings.max_upload_bytes
        )
        return result

    async def stage_batch(self, uploads: list[Any]) -> dict[str, Any]:
        from workers import tasks_genre

        files = [(getattr(f, "filename", None), chunks_of(f)) for f in uploads]
        params: dict[str, Any] = await tasks_genre.stage_batch(
            files, self._media_dir, self.settings.max_upload_bytes
        )
        return params

    def discard_batch(self, batch: str) -> None:
        from workers import tasks_genre

        tasks_genre.discard_batch(self._media_dir, batch)

    def scan_root(self, path: str) -> Path:
        return library_scan.resolve_root(path, self.settings.resolved_scan_roots)

    def check_webhook(self, url: str) -> str:
        return webhooks.check_url(url, self.settings)
