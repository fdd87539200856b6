"""The server key: one Fernet key that signs stream URLs and encrypts the Subsonic
passwords users opt into. `APOLLONIA_SERVER_KEY`, else (development only) a key made
once in the data folder, so every process sharing the folder agrees on it."""

import functools
import hashlib
import hmac
import os
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from cryptography.fernet import Fernet, InvalidToken

KEY_FILE = "server-key"


@functools.cache
def _key_for(configured: str, data_dir: str, production: bool) -> bytes:
    if configured:
        Fernet(configured.encode())  # fails start-up on a malformed key
        return configured.encode()
    if production:
        raise RuntimeError("APOLLONIA_SERVER_KEY must be set in production")
    path = Path(data_dir) / KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_bytes().strip()  # another process made it first
        with os.fdopen(fd, "wb") as f:
            f.write(Fernet.generate_key())
    return path.read_bytes().strip()


def server_key(settings: Any) -> bytes:
    """The Fernet key (urlsafe base64 of 32 bytes) for these settings."""
    return _key_for(settings.server_key, str(settings.data_dir), bool(settings.production))


def _signing_key(settings: Any) -> bytes:
    # A key of its own for URL signatures, so a signature never doubles as a Fernet key.
    return hashlib.sha256(b"apollonia-stream-url:" + server_key(settings)).digest()


def stream_signature(settings: Any, track_id: str, expires: int) -> str:
    message = f"{track_id}:{expires}".encode()
    return hmac.new(_signing_key(settings), message, hashlib.sha256).hexdigest()[:32]


def _signed(settings: Any, path: str, item_id: str, expires: int, params: dict[str, Any]) -> str:
    query = {k: v for k, v in params.items() if v is not None}
    query |= {"expires": expires, "sig": stream_signature(settings, item_id, expires)}
    return f"{path}?{urlencode(query)}"


def signed_stream_url(settings: Any, track_id: str, **params: Any) -> str:
    """A relative URL that streams the track without any other credential until it
    expires (`APOLLONIA_STREAM_URL_TTL`); extra `params` (format, maxBitRate) ride along."""
    expires = int(time.time()) + int(settings.stream_url_ttl)
    return _signed(settings, f"/api/v1/tracks/{track_id}/stream", track_id, expires, params)


def signed_artwork_url(settings: Any, item_id: str, **params: Any) -> str:
    """A relative URL of the artwork of a track, album or artist. It expires at the end
    of the next UTC day, so that it stays the same (and cacheable) for a whole day."""
    expires = (int(time.time()) // 86400 + 2) * 86400
    return _signed(settings, f"/api/v1/artwork/{item_id}", item_id, expires, params)


def valid_stream_signature(settings: Any, track_id: str, expires: str, sig: str) -> bool:
    """True when `sig` signs this track until `expires`, a time still in the future."""
    if not expires.isdigit() or int(expires) < time.time():
        return False
    return hmac.compare_digest(stream_signature(settings, track_id, int(expires)), sig)


def encrypt(settings: Any, secret: str) -> str:
    return Fernet(server_key(settings)).encrypt(secret.encode()).decode()


def decrypt(settings: Any, token: str) -> str | None:
    """The secret, or None when it was encrypted under another key (the key changed)."""
    try:
        return Fernet(server_key(settings)).decrypt(token.encode()).decode()
    except InvalidToken:
        return None
