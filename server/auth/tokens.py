"""JWTs: one pinned algorithm, every registered claim required, access and refresh kept apart."""

import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt

from music.errors import UnauthenticatedError

ACCESS = "access"
REFRESH = "refresh"
REQUIRED_CLAIMS = ["exp", "iat", "nbf", "iss", "aud", "sub", "jti", "typ"]


@dataclass(frozen=True)
class TokenConfig:
    algorithm: str
    signing_key: Any
    verifying_key: Any
    issuer: str
    audience: str
    access_ttl: int
    refresh_ttl: int
    leeway: int = 5


@dataclass(frozen=True)
class Issued:
    token: str
    jti: str
    expires_at: int  # epoch seconds


class Tokens:
    def __init__(self, config: TokenConfig) -> None:
        self.config = config

    def issue(self, subject: str, typ: str, **claims: Any) -> Issued:
        now = int(time.time())
        ttl = self.config.access_ttl if typ == ACCESS else self.config.refresh_ttl
        jti = uuid.uuid4().hex
        payload = {
            "iss": self.config.issuer,
            "aud": self.config.audience,
            "sub": subject,
            "iat": now,
            "nbf": now,
            "exp": now + ttl,
            "jti": jti,
            "typ": typ,
            **claims,
        }
        token = jwt.encode(payload, self.config.signing_key, algorithm=self.config.algorithm)
        return Issued(token, jti, now + ttl)

    def decode(self, token: str, typ: str) -> dict[str, Any]:
        """The verified claims of a token of type `typ`; anything else is UNAUTHENTICATED."""
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self.config.verifying_key,
                algorithms=[self.config.algorithm],
                audience=self.config.audience,
                issuer=self.config.issuer,
                leeway=self.config.leeway,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.ExpiredSignatureError as e:
            raise UnauthenticatedError("The token has expired.") from e
        except jwt.PyJWTError as e:
            raise UnauthenticatedError("The token is not valid.") from e
        if claims.get("typ") != typ:
            raise UnauthenticatedError("The token is not valid.")
        return claims
