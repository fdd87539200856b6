"""Sign-up, sign-in, token rotation, logout, password and profile changes, and API keys.

Resolvers reach this through `info.context.auth`; it is the only place that issues
credentials.
"""

import contextlib
import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from graph import ids, users
from graph.engine import GraphEngine, Row
from music.errors import ForbiddenError, NotFoundError, UnauthenticatedError, ValidationError
from music.text import check_text
from resolvers.permissions import Principal
from server.auth.account_mail import AccountMail
from server.auth.passwords import Passwords
from server.auth.revocations import Revocations
from server.auth.tokens import ACCESS, REFRESH, Tokens
from server.auth.user_admin import (
    API_KEY_CACHE,
    UserAdmin,
    check_password,
    check_username,
    clean_email,
)
from server.mail import MailSender

API_KEY_RE = re.compile(r"^apk_([0-9A-HJKMNP-TV-Z]{26})_([A-Za-z0-9_-]{43})$")
API_KEY_CACHE_SECONDS = 60
INVALID_LOGIN = "Invalid login or password."


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class AuthService(UserAdmin, AccountMail):
    def __init__(
        self,
        engine: GraphEngine,
        redis: aioredis.Redis,
        tokens: Tokens,
        passwords: Passwords,
        mail: MailSender | None = None,
        public_url: str = "http://127.0.0.1:8000",
        refresh_grace_ms: int = 5_000,
    ) -> None:
        self.engine = engine
        # How long after a rotation the token it replaced is a lost race, not a replay.
        self.refresh_grace_ms = refresh_grace_ms
        self.redis = redis
        self.tokens = tokens
        self.passwords = passwords
        self.mail = mail
        self.public_url = public_url
        self.revocations = Revocations(engine, redis)

    # Credentials in, principal out --------------------------------------------------

    async def authenticate(self, credential: str) -> Principal:
        """The principal of an access token or API key; UNAUTHENTICATED if not valid."""
        if credential.startswith("apk_"):
            return await self._api_key_principal(credential)
        claims = self.tokens.decode(credential, ACCESS)
        family = claims.get("fam")
        family = family if isinstance(family, str) else None
        if await self.revocations.is_revoked(claims["jti"], claims["sub"], family):
            raise UnauthenticatedError("The token has been revoked.")
        return Principal.for_role(
            claims["sub"],
            str(claims.get("role", "guest")),
            "jwt",
            jti=claims["jti"],
            expires_at=int(claims["exp"]),
            family=family,
        )

    async def _api_key_principal(self, credential: str) -> Principal:
        match = API_KEY_RE.match(credential)
        if match is None:
            raise UnauthenticatedError("The API key is not valid.")
        key_id, secret = f"key_{match.group(1)}", match.group(2)
        cached: Any = None
        try:
            cached = await self.redis.hgetall(API_KEY_CACHE + key_id)
        except RedisError:
            cached = None
        if not cached:
            row = await users.api_key(self.engine, key_id)
            if row is None:
                raise UnauthenticatedError("The API key is not valid.")
            cached = {k: row[k] for k in ("secret_hash", "user_id", "role")}
            try:
                async with self.redis.pipeline(transaction=True) as pipe:
                    pipe.hset(API_KEY_CACHE + key_id, mapping=cached)
                    pipe.expire(API_KEY_CACHE + key_id, API_KEY_CACHE_SECONDS)
                    await pipe.execute()
            except RedisError:
                pass
        if not hmac.compare_digest(cached["secret_hash"], _digest(secret)):
            raise UnauthenticatedError("The API key is not valid.")
        return Principal.for_role(cached["user_id"], cached["role"], "api_key")

    # Sessions ---------------------------------------------------------------------------

    async def _session(self, user: Row) -> dict[str, Any]:
        """A new session: an access token and the first refresh token of a new family."""
        family = ids.new_id("TokenFamily")
        access = self.tokens.issue(user["id"], ACCESS, role=user["role"], fam=family)
        refresh = self.tokens.issue(user["id"], REFRESH, fam=family)
        await users.create_family(
            self.engine, user["id"], family, refresh.jti, refresh.expires_at * 1000
        )
        return {
            "access_token": access.token,
            "refresh_token": refresh.token,
            "expires_in": self.tokens.config.access_ttl,
            "user": {**user, "_signed_in": True},
        }

    async def _new_user(self, email: str, username: str, password: str, role: str) -> Row:
        email = clean_email(email)
        check_username(username)
        check_password(password)
        password_hash = await self.passwords.hash(password)
        return await users.create_user(self.engine, email, username, password_hash, role)

    async def register(self, email: str, username: str, password: str) -> dict[str, Any]:
        """Sign up as a `user`, mail the address a verification link, start a session."""
        user = await self._new_user(email, username, password, "user")
        await self.send_verification(user)
        return await self._session(user)

    async def create_user(self, email: str, username: str, password: str, role: str) -> Row:
        """A user with any role, without a session (the `create-admin` command)."""
        return await self._new_user(email, username, password, role)

    async def login(
        self,
        login: str,
        password: str,
        check_account: Callable[[str], Awaitable[None]] | None = None,
    ) -> dict[str, Any]:
        """Sign in by email or username. `check_account` (the per-account attempt limit)
        is called before the password is verified, with the account's user id when the
        login names one, so that its email and its username share one budget."""
        found = await users.user_for_login(self.engine, login.strip()) if login.strip() else None
        if check_account is not None:
            await check_account(str(found[0]["id"]) if found else login)
        ok = await self.passwords.verify(found[1] if found else None, password)
        if not found or not ok:
            raise UnauthenticatedError(INVALID_LOGIN)
        return await self._session(found[0])

    async def refresh(self, token: str) -> dict[str, Any]:
        """Rotate a refresh token. A token that was already rotated revokes its family."""
        claims = self.tokens.decode(token, REFRESH)
        family = claims.get("fam")
        if not isinstance(family, str):
            raise UnauthenticatedError("The token is not valid.")
        successor = self.tokens.issue(claims["sub"], REFRESH, fam=family)
        user_id, raced = await users.rotate_family(
            self.engine,
            family,
            claims["jti"],
            successor.jti,
            successor.expires_at * 1000,
            raced_after=int(time.time() * 1000) - self.refresh_grace_ms,
        )
        if raced:
            # A concurrent refresh of the same token won: its pair stays valid.
            raise UnauthenticatedError("This refresh token was just used; use its successor.")
        if user_id is None:
            # A replay: the family is revoked, and with it the access tokens it issued.
            await self.revocations.revoke_families([family], self.last_access_expiry())
            raise UnauthenticatedError(
                "This refresh token was already used or revoked; sign in again."
            )
        [user] = await users.users_by_id(self.engine, [user_id])
        if user is None:
            raise UnauthenticatedError("The account no longer exists.")
        access = self.tokens.issue(user["id"], ACCESS, role=user["role"], fam=family)
        return {
            "access_token": access.token,
            "refresh_token": successor.token,
            "expires_in": self.tokens.config.access_ttl,
            "user": {**user, "_signed_in": True},
        }

    async def logout(self, principal: Principal, refresh_token: str | None) -> bool:
        """Revoke the caller's access token, and the refresh family of `refresh_token`."""
        user_id = principal.require_user()
        if refresh_token:
            claims = self.tokens.decode(refresh_token, REFRESH)
            if claims["sub"] != user_id:
                raise UnauthenticatedError("The token is not valid.")
            family = str(claims.get("fam"))
            if await users.revoke_family(self.engine, family, user_id):
                await self.revocations.revoke_families([family], self.last_access_expiry())
        if principal.jti and principal.expires_at:
            await self.revocations.revoke(principal.jti, principal.expires_at)
        return True

    async def change_password(
        self, principal: Principal, current: str, new: str, family: str | None
    ) -> bool:
        """Change the password and end every other session of the user."""
        user_id = principal.require_user()
        check_password(new, "newPassword")
        stored = await users.password_hash(self.engine, user_id)
        if not await self.passwords.verify(stored, current):
            raise UnauthenticatedError(INVALID_LOGIN)
        await users.set_password(self.engine, user_id, await self.passwords.hash(new))
        await self._end_other_sessions(user_id, family)
        return True

    async def _end_other_sessions(self, user_id: str, family: str | None) -> None:
        """Revoke every session of the user but `family`, and their access tokens."""
        ended = await users.revoke_other_families(self.engine, user_id, keep=family or "")
        await self.revocations.revoke_families(ended, self.last_access_expiry())

    async def update_profile(
        self,
        principal: Principal,
        email: str | None,
        username: str | None,
        current_password: str | None = None,
        new_password: str | None = None,
        family: str | None = None,
    ) -> Row:
        """Change the caller's email, username and password, each only when given, under
        the rules of `register`, in one write: everything is checked first (the current
        password included), so a refusal changes nothing. A new password ends the
        caller's other sessions. Asking for no change returns the user without a write."""
        user_id = principal.require_user()
        if email is not None:
            email = clean_email(email)
        if username is not None:
            check_username(username)
        password_hash = None
        if new_password is not None or current_password is not None:
            if new_password is None or current_password is None:
                raise ValidationError(
                    "Give 'currentPassword' and 'newPassword' together.", field="newPassword"
                )
            check_password(new_password, "newPassword")
            stored = await users.password_hash(self.engine, user_id)
            if not await self.passwords.verify(stored, current_password):
                raise UnauthenticatedError(INVALID_LOGIN)
            password_hash = await self.passwords.hash(new_password)
        if email is None and username is None and password_hash is None:
            [found] = await users.users_by_id(self.engine, [user_id])
            if found is None:
                raise NotFoundError(f"User {user_id} does not exist.")
            return found
        row = await users.update_profile(self.engine, user_id, email, username, password_hash)
        if password_hash is not None:
            await self._end_other_sessions(user_id, family)
        return row

    async def delete_account(self, principal: Principal, password: str) -> list[str]:
        """Delete the caller's account once the password is confirmed. Every session,
        access token and API key of the user stops working at once. Returns the ids of
        the collections that went with it."""
        user_id = principal.require_user()
        stored = await users.password_hash(self.engine, user_id)
        if not await self.passwords.verify(stored, password):
            raise UnauthenticatedError(INVALID_LOGIN)
        return await self.remove_user(user_id)

    # API keys ---------------------------------------------------------------------------

    async def create_api_key(self, principal: Principal, name: str) -> dict[str, Any]:
        user_id = principal.require_user()
        if principal.via == "api_key":
            # A key made from a key would outlive the revocation of a leaked one.
            raise ForbiddenError("Sign in with your password to create an API key.")
        name = check_text(name.strip(), "name")
        if not 1 <= len(name) <= 100:
            raise ValidationError("A key name has 1 to 100 characters.", field="name")
        key_id = ids.new_id("ApiKey")
        secret = secrets.token_urlsafe(32)
        key = f"apk_{key_id.removeprefix('key_')}_{secret}"
        row = await users.create_api_key(
            self.engine, user_id, key_id, name, key[:12], _digest(secret)
        )
        return {"key": key, "api_key": row}

    async def revoke_api_key(self, principal: Principal, key_id: str) -> Row:
        user_id = principal.require_user()
        ids.require_id(key_id, "ApiKey")
        row = await users.revoke_api_key(self.engine, user_id, key_id)
        if row is None:
            raise NotFoundError(f"API key {key_id} does not exist.")
        # Should Redis be down, the cache entry expires within API_KEY_CACHE_SECONDS.
        with contextlib.suppress(RedisError):
            await self.redis.delete(API_KEY_CACHE + key_id)
        return row
