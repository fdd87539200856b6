"""Who is calling the Subsonic API.

- `apiKey` (the OpenSubsonic extension): one of the API keys `createApiKey` makes.
- `u` + `t` + `s` (token auth, t = md5(password + salt)): only for users who opted in
  with `setSubsonicPassword`, whose Subsonic password the server can decrypt with its key.
- `u` + `p` (`p` in clear or `enc:<hex>`): the Subsonic password when set, else the
  account password (checked against its argon2 hash, so slow by design).
- none of those but an `Authorization`/`X-API-Key` header: that credential (web players).

Every call carries its credential, so only failures are charged to the sign-in budgets
of `/graphql` (per client IP and per account); once either is spent, even a right
password is refused until the window ends.

Clients that send `p` send it with every call, and argon2 is slow by design (tens of ms
of CPU), so a right account password is remembered for `REMEMBER_SECONDS`: by an HMAC,
under a key made anew by each process, of the user, the stored hash and the password.
A changed password changes the stored hash, so the old one is no longer remembered;
wrong passwords are never remembered and always cost the hash check.
"""

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from typing import Any

from cachetools import TTLCache

from graph import subsonic
from graph.names import name_key
from music.errors import UnauthenticatedError
from resolvers.permissions import Principal
from resolvers.server_key import decrypt
from server.metrics import SUBSONIC_PASSWORD_CHECKS
from server.ratelimit import ACCOUNT, LOGIN
from server.subsonic.responses import (
    CONFLICTING_AUTH,
    GENERIC,
    INVALID_API_KEY,
    MISSING_PARAMETER,
    TOKEN_AUTH_NOT_SUPPORTED,
    WRONG_CREDENTIALS,
    SubsonicError,
)

WRONG = "Wrong username or password."
REMEMBER_SECONDS = 300.0
REMEMBER_MAX = 4096


def _clear_password(p: str) -> str:
    if p.startswith("enc:"):
        try:
            return bytes.fromhex(p[4:]).decode("utf-8")
        except ValueError:
            raise SubsonicError(WRONG_CREDENTIALS, WRONG) from None
    return p


class SubsonicAuth:
    def __init__(self, settings: Any, state: dict[str, Any]) -> None:
        self.settings = settings
        self.state = state  # "engine" and "auth" once the app has started
        self._remember_key = secrets.token_bytes(32)
        self._remembered: TTLCache[bytes, bool] = TTLCache(REMEMBER_MAX, REMEMBER_SECONDS)

    async def principal(
        self, params: Mapping[str, str], from_headers: Principal, client: str = "unknown"
    ) -> Principal:
        api_key = params.get("apiKey")
        username = params.get("u")
        if api_key is not None:
            if username is not None or "p" in params or "t" in params:
                raise SubsonicError(CONFLICTING_AUTH, "Use either apiKey or u, not both.")
            return await self._api_key(api_key)
        if username is None:
            if from_headers.user_id is not None:
                return from_headers
            raise SubsonicError(MISSING_PARAMETER, "Required parameter is missing: u.")
        token, salt, password = params.get("t"), params.get("s"), params.get("p")
        if (token is None or salt is None) and password is None:
            raise SubsonicError(MISSING_PARAMETER, "Required parameter is missing: t and s, or p.")
        await self._charge(username, client, 0)  # refused while a budget is spent
        user = await subsonic.subsonic_user(self.state["engine"], username)
        try:
            if token is not None and salt is not None:
                return await self._token(user, token, salt)
            return await self._password(user, _clear_password(password or ""))
        except SubsonicError as e:
            if e.code == WRONG_CREDENTIALS:
                await self._charge(username, client, 1)
            raise

    async def _charge(self, username: str, client: str, cost: int) -> None:
        """Charge `cost` failed sign-ins to the client IP and the account; refuse (code 0,
        as Subsonic has none for this) once either budget is spent."""
        limiter = self.state.get("limiter")
        if limiter is None:
            return
        by_ip = await limiter.hit(LOGIN, f"ip:{client}", cost=cost)
        # The account's key as `/graphql`'s login budget spells it: one budget for both.
        account = hashlib.sha256(name_key(username).encode()).hexdigest()[:32]
        by_account = await limiter.hit(ACCOUNT, account, cost=cost)
        for verdict in (by_ip, by_account):
            if verdict is not None and not verdict.allowed:
                wait = verdict.retry_after
                raise SubsonicError(GENERIC, f"Too many failed sign-ins; try again in {wait} s.")

    async def _api_key(self, key: str) -> Principal:
        if not key.startswith("apk_") or len(key) > 200:
            raise SubsonicError(INVALID_API_KEY, "The API key is not valid.")
        try:
            return await self.state["auth"].authenticate(key)  # type: ignore[no-any-return]
        except UnauthenticatedError:
            raise SubsonicError(INVALID_API_KEY, "The API key is not valid.") from None

    async def _token(self, user: dict[str, Any] | None, token: str, salt: str) -> Principal:
        if user is None:
            raise SubsonicError(WRONG_CREDENTIALS, WRONG)
        secret = decrypt(self.settings, user["secret"]) if user.get("secret") else None
        if secret is None:
            raise SubsonicError(
                TOKEN_AUTH_NOT_SUPPORTED,
                "Token authentication is off for this user: set a Subsonic password "
                "(setSubsonicPassword) or use an API key.",
            )
        expected = hashlib.md5((secret + salt).encode(), usedforsecurity=False).hexdigest()
        if not hmac.compare_digest(expected, token.lower()):
            raise SubsonicError(WRONG_CREDENTIALS, WRONG)
        return Principal.for_role(user["id"], user["role"], "subsonic")

    async def _password(self, user: dict[str, Any] | None, password: str) -> Principal:
        if user is not None and user.get("secret"):
            secret = decrypt(self.settings, user["secret"])
            if secret is not None and hmac.compare_digest(secret.encode(), password.encode()):
                return Principal.for_role(user["id"], user["role"], "subsonic")
        # The account password; a missing user costs the same hash check as a wrong one.
        passwords = self.state["auth"].passwords
        stored = user.get("password_hash") if user is not None else None
        digest = None
        if user is not None and isinstance(stored, str):
            digest = self._digest(str(user["id"]), stored, password)
            if self._recalled(digest):
                SUBSONIC_PASSWORD_CHECKS.labels("remembered").inc()
                return Principal.for_role(user["id"], user["role"], "subsonic")
        SUBSONIC_PASSWORD_CHECKS.labels("hashed").inc()
        if await passwords.verify(stored, password) and user is not None:
            if digest is not None:
                self._remember(digest)
            return Principal.for_role(user["id"], user["role"], "subsonic")
        raise SubsonicError(WRONG_CREDENTIALS, WRONG)

    def _digest(self, user_id: str, stored: str, password: str) -> bytes:
        message = b"\0".join(part.encode() for part in (user_id, stored, password))
        return hmac.new(self._remember_key, message, hashlib.sha256).digest()

    def _recalled(self, digest: bytes) -> bool:
        return self._remembered.get(digest, False)

    def _remember(self, digest: bytes) -> None:
        self._remembered[digest] = True
