"""Audio out: `GET /api/v1/tracks/{id}/stream` serves a track's file with HTTP Range
requests (206, `Accept-Ranges`, `Content-Range`, `If-Range` against the ETag), or a
transcode (`?format=opus|mp3|aac&maxBitRate=…&timeOffset=…`).

The caller needs `read:media` (token, API key, or anonymous reads when allowed) or a
URL signed by `Track.streamUrl`. Only files under the media folder or a scan root are
ever served, whatever path the graph holds: the resolved path (symlinks followed) must
lie inside one of them.
"""

import logging
import math
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from graph import media_files
from resolvers.permissions import ANONYMOUS, READ_MEDIA, Principal
from resolvers.server_key import valid_stream_signature
from server.rest.errors import error_response
from server.settings import Settings
from server.transcode import FORMATS, TranscodeBusy, Transcoder, bit_rate

log = logging.getLogger("apollonia.streaming")

MEDIA_TYPES = {
    "mp3": "audio/mpeg",
    "flac": "audio/flac",
    "ogg": "audio/ogg",
    "opus": "audio/ogg",
    "wav": "audio/wav",
    "aiff": "audio/aiff",
    "m4a": "audio/mp4",
}
ORIGINAL = ("", "raw", "original")


class MediaFileResponse(FileResponse):
    """Starlette's FileResponse honours Range on GET and HEAD only; Subsonic clients may
    send their parameters as a form POST (the formPost extension) and seek all the same."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("method") == "POST":
            scope = {**scope, "method": "GET"}
        await super().__call__(scope, receive, send)


class StreamError(Exception):
    """A refusal with a stable code (the REST envelope's)."""

    def __init__(self, code: str, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def _number(value: str | None, name: str) -> float | None:
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except ValueError:
        raise StreamError("VALIDATION_ERROR", f"'{name}' is not a number.") from None
    if not math.isfinite(number) or number < 0:
        raise StreamError("VALIDATION_ERROR", f"'{name}' is not valid here.")
    return number


class Streaming:
    """Resolves a track to a safe file and answers with it or a transcode; the Subsonic
    `stream` and `download` endpoints use it too."""

    def __init__(self, settings: Settings, state: dict[str, Any]) -> None:
        self.settings = settings
        self.state = state
        self.roots = (settings.resolved_media_dir, *settings.resolved_scan_roots)
        self.transcoder = Transcoder(
            Path(settings.data_dir).resolve() / "transcodes", settings.transcode_concurrency
        )

    def safe_path(self, stored: str | None) -> Path | None:
        """The file, if it exists and lies inside the media folder or a scan root."""
        if not stored:
            return None
        try:
            path = Path(stored).resolve(strict=True)
        except (OSError, RuntimeError):
            return None
        if not path.is_file() or not any(path.is_relative_to(root) for root in self.roots):
            if path.is_file():
                log.warning("refused to stream a file outside the media folders")
            return None
        return path

    async def respond(
        self,
        request: Request,
        track_id: str,
        fmt: str | None,
        max_bit_rate: float | None = None,
        time_offset: float | None = None,
    ) -> Response:
        """The file (Range-capable) or its transcode. Raises StreamError."""
        if fmt is not None and fmt.lower() not in ORIGINAL and fmt.lower() not in FORMATS:
            raise StreamError("UNSUPPORTED_FORMAT", "format is one of opus, mp3, aac or raw.")
        row = await media_files.track_file(self.state["engine"], track_id)
        if row is None:
            raise StreamError("NOT_FOUND", f"Track {track_id} does not exist.")
        path = self.safe_path(row.get("path"))
        if path is None:
            raise StreamError("NOT_FOUND", "This track has no audio file.")
        headers = {"cache-control": "private, max-age=3600"}
        if fmt is None or fmt.lower() in ORIGINAL:
            media_type = MEDIA_TYPES.get(str(row.get("format") or path.suffix[1:]).lower())
            return MediaFileResponse(
                path, media_type=media_type or "application/octet-stream", headers=headers
            )
        fmt = fmt.lower()
        kbps = bit_rate(fmt, int(max_bit_rate) if max_bit_rate else None)
        offset = time_offset or 0.0
        stat = path.stat()
        source_key = str(row.get("sha") or f"{path}:{stat.st_size}:{stat.st_mtime_ns}")
        media_type = FORMATS[fmt].media_type
        cached = self.transcoder.cached(source_key, fmt, kbps) if offset <= 0 else None
        if cached is not None:
            return MediaFileResponse(cached, media_type=media_type, headers=headers)
        try:
            chunks = await self.transcoder.stream(str(path), source_key, fmt, kbps, offset)
        except TranscodeBusy:
            raise StreamError(
                "TRANSCODE_BUSY", "Every transcode slot is taken; try again.", status=503
            ) from None
        headers["x-content-duration"] = str(row.get("duration") or "")
        return StreamingResponse(chunks, media_type=media_type, headers=headers)

    async def endpoint(self, request: Request) -> Response:
        track_id = request.path_params["id"]
        query = request.query_params
        try:
            if not self._allowed(request, track_id):
                principal: Principal = getattr(request.state, "principal", ANONYMOUS)
                if principal.user_id is None and "sig" not in query:
                    raise StreamError("UNAUTHENTICATED", "Sign in or use a signed stream URL.")
                raise StreamError("FORBIDDEN", "You may not stream this track.")
            return await self.respond(
                request,
                track_id,
                query.get("format"),
                _number(query.get("maxBitRate"), "maxBitRate"),
                _number(query.get("timeOffset"), "timeOffset"),
            )
        except StreamError as e:
            return error_response(e.code, e.message, status=e.status)

    def _allowed(self, request: Request, track_id: str) -> bool:
        query = request.query_params
        if "sig" in query:
            return valid_stream_signature(
                self.settings, track_id, query.get("expires", ""), query["sig"]
            )
        principal: Principal = getattr(request.state, "principal", ANONYMOUS)
        return READ_MEDIA in principal.permissions


def streaming_routes(streaming: Streaming) -> list[Route]:
    return [Route("/api/v1/tracks/{id}/stream", streaming.endpoint, methods=["GET", "HEAD"])]
