"""Cover art: `GET /api/v1/artwork/{id}?size=N` for a track, album or artist.

The picture embedded in the file (read with mutagen: ID3 APIC, FLAC and Ogg pictures,
MP4 `covr`) wins; else a `cover.jpg`/`folder.jpg` (or `.png`) beside a scanned file. An
image is stored once under `<data>/artwork/` by its SHA-256 and each size asked for is
made from it once with Pillow; responses carry that hash as ETag (304 on a match) and
may be cached for a day. Access is that of streaming: `read:media` or a signed URL.
"""

import asyncio
import base64
import hashlib
import io
import logging
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from graph import media_files
from resolvers.permissions import ANONYMOUS, READ_MEDIA, Principal
from resolvers.server_key import valid_stream_signature
from server.rest.errors import error_response
from server.streaming import Streaming

log = logging.getLogger("apollonia.artwork")

FOLDER_IMAGES = ("cover.jpg", "folder.jpg", "cover.png", "folder.png", "front.jpg")
MIN_SIZE, MAX_SIZE = 16, 2048
MAX_IMAGE_BYTES = 20 * 1024 * 1024
CACHE_CONTROL = "private, max-age=86400"


def embedded_picture(path: Path) -> bytes | None:
    """The front cover (else the first picture) embedded in an audio file."""
    import mutagen
    from mutagen.flac import Picture

    try:
        audio: Any = mutagen.File(path)
    except Exception:  # mutagen raises many kinds on odd files: no art, then
        return None
    if audio is None:
        return None
    pictures: list[Any] = list(getattr(audio, "pictures", None) or [])
    tags = audio.tags
    if tags is not None and hasattr(tags, "getall"):
        pictures += tags.getall("APIC")
    if tags is not None and not pictures:
        for value in (tags.get("metadata_block_picture") or []) if hasattr(tags, "get") else []:
            try:
                pictures.append(Picture(base64.b64decode(value)))  # type: ignore[no-untyped-call]
            except Exception:
                continue
        covers = tags.get("covr") if hasattr(tags, "get") else None
        if covers:
            return bytes(covers[0])
    if not pictures:
        return None
    front = [p for p in pictures if getattr(p, "type", None) == 3]
    return bytes((front or pictures)[0].data)


class Artwork:
    def __init__(self, streaming: Streaming) -> None:
        self.streaming = streaming
        self.settings = streaming.settings
        self.folder = Path(self.settings.data_dir).resolve() / "artwork"

    def _beside(self, audio: Path) -> bytes | None:
        # Uploads share content-addressed folders: an image there belongs to no album.
        if audio.is_relative_to(self.settings.resolved_media_dir):
            return None
        for name in FOLDER_IMAGES:
            candidate = audio.parent / name
            safe = self.streaming.safe_path(str(candidate))
            if safe is not None and safe.stat().st_size <= MAX_IMAGE_BYTES:
                return safe.read_bytes()
        return None

    def _store(self, image: bytes) -> Path | None:
        """The image, checked with Pillow and stored by hash; None if it is no image."""
        from PIL import Image, UnidentifiedImageError

        digest = hashlib.sha256(image).hexdigest()
        path = self.folder / digest[:2] / digest
        if path.exists():
            return path
        try:
            with Image.open(io.BytesIO(image)) as picture:
                picture.verify()
        except (UnidentifiedImageError, OSError, ValueError):
            return None
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part")
        partial.write_bytes(image)
        partial.replace(path)
        return path

    def _sized(self, original: Path, size: int | None) -> Path:
        if size is None:
            return original
        from PIL import Image

        target = original.with_name(f"{original.name}_{size}.jpg")
        if target.exists():
            return target
        with Image.open(original) as picture:
            picture.thumbnail((size, size))
            partial = target.with_suffix(".part")
            picture.convert("RGB").save(partial, "JPEG", quality=85)
        partial.replace(target)
        return target

    def find(self, files: list[str], size: int | None) -> Path | None:
        """The stored (and resized) artwork of the first of `files` that has one."""
        for stored in files:
            audio = self.streaming.safe_path(stored)
            if audio is None:
                continue
            image = embedded_picture(audio) or self._beside(audio)
            if image is None:
                continue
            original = self._store(image)
            if original is not None:
                return self._sized(original, size)
        return None

    async def respond(self, request: Request, item_id: str, size: int | None) -> Response | None:
        """The artwork response, or None when there is none."""
        files = await media_files.artwork_files(self.streaming.state["engine"], item_id)
        path = await asyncio.to_thread(self.find, files, size)
        if path is None:
            return None
        etag = f'"{path.name}"'
        headers = {"cache-control": CACHE_CONTROL, "etag": etag}
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers=headers)
        return FileResponse(path, media_type=_media_type(path), headers=headers)

    async def endpoint(self, request: Request) -> Response:
        item_id = request.path_params["id"]
        query = request.query_params
        principal: Principal = getattr(request.state, "principal", ANONYMOUS)
        if "sig" in query:
            if not valid_stream_signature(
                self.settings, item_id, query.get("expires", ""), query["sig"]
            ):
                return error_response("FORBIDDEN", "This artwork URL is not valid.")
        elif READ_MEDIA not in principal.permissions:
            return error_response("UNAUTHENTICATED", "Sign in or use a signed URL.")
        size = parse_size(query.get("size"))
        if size == -1:
            return error_response("VALIDATION_ERROR", f"size is {MIN_SIZE} to {MAX_SIZE}.")
        response = await self.respond(request, item_id, size)
        if response is None:
            return error_response("NOT_FOUND", "There is no artwork for this.")
        return response


def parse_size(raw: str | None) -> int | None:
    """The size asked for; None for the original; -1 when it is not valid."""
    if raw is None or raw == "":
        return None
    if not raw.isdigit() or not MIN_SIZE <= int(raw) <= MAX_SIZE:
        return -1
    return int(raw)


def _media_type(path: Path) -> str:
    if path.name.endswith(".jpg"):
        return "image/jpeg"
    with path.open("rb") as f:
        head = f.read(8)
    if head.startswith(b"\x89PNG"):
        return "image/png"
    return "image/jpeg" if head.startswith(b"\xff\xd8") else "application/octet-stream"


def artwork_routes(artwork: Artwork) -> list[Route]:
    return [Route("/api/v1/artwork/{id}", artwork.endpoint, methods=["GET", "HEAD"])]
