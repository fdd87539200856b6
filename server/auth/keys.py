"""Signing keys for JWTs, from settings."""

import os
import secrets
from pathlib import Path

from server.auth.tokens import TokenConfig
from server.settings import Settings

SYMMETRIC = ("HS256", "HS384", "HS512")
ASYMMETRIC = ("RS256", "RS384", "RS512", "ES256", "ES384", "EdDSA")
MIN_SECRET_BYTES = 32


def _development_secret(data_dir: str) -> str:
    """A secret kept in the data folder, so that tokens survive restarts and are
    accepted by every process that shares the folder."""
    path = Path(data_dir) / "jwt-secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def token_config(settings: Settings) -> TokenConfig:
    """The pinned algorithm and its keys; a misconfiguration stops the start-up."""
    algorithm = settings.jwt_algorithm
    if algorithm in SYMMETRIC:
        secret = settings.jwt_secret
        if not secret:
            if settings.production:
                raise RuntimeError("APOLLONIA_JWT_SECRET must be set in production")
            secret = _development_secret(settings.data_dir)
        if len(secret.encode()) < MIN_SECRET_BYTES:
            raise RuntimeError(f"APOLLONIA_JWT_SECRET needs at least {MIN_SECRET_BYTES} bytes")
        signing: object = secret
        verifying: object = secret
    elif algorithm in ASYMMETRIC:
        if not settings.jwt_private_key_file or not settings.jwt_public_key_file:
            raise RuntimeError(
                f"{algorithm} needs APOLLONIA_JWT_PRIVATE_KEY_FILE and "
                "APOLLONIA_JWT_PUBLIC_KEY_FILE"
            )
        signing = Path(settings.jwt_private_key_file).read_text()
        verifying = Path(settings.jwt_public_key_file).read_text()
    else:
        raise RuntimeError(f"unsupported JWT algorithm {algorithm!r}")
    return TokenConfig(
        algorithm=algorithm,
        signing_key=signing,
        verifying_key=verifying,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        access_ttl=settings.access_token_ttl,
        refresh_ttl=settings.refresh_token_ttl,
    )
