"""User administration (seed 004's `/api/v1/users`): an admin creates, edits and deletes
accounts. Permissions are the schema's (`MANAGE_USERS`); the rules here are those of
sign-up (email, username, password) plus the roles and the last admin, who stays."""

import contextlib
import re
import time

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from graph import ids, users
from graph.engine import GraphEngine, Row
from music.errors import ConflictError, ValidationError
from music.text import has_control
from server.auth.passwords import MAX_LENGTH, MIN_LENGTH, Passwords
from server.auth.revocations import Revocations, user_entry
from server.auth.tokens import Tokens

API_KEY_CACHE = "apollonia:apikey:"
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,189}\.[^@\s.]{2,}$")
USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{2,39}$")
NAME_MAX = 100


def clean_email(email: str) -> str:
    """The email as stored (trimmed, lower-cased); VALIDATION_ERROR if it is not one."""
    email = email.strip().lower()
    if len(email) > 254 or has_control(email) or not EMAIL_RE.match(email):
        raise ValidationError("That is not an email address.", field="email")
    return email


def check_username(username: str) -> None:
    if not USERNAME_RE.match(username):
        raise ValidationError(
            "A username has 3 to 40 letters, digits, '.', '_' or '-'.", field="username"
        )


def check_password(password: str, field: str = "password") -> None:
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise ValidationError(
            f"A password has {MIN_LENGTH} to {MAX_LENGTH} characters.", field=field
        )


def clean_name(name: str) -> str:
    name = " ".join(name.split())
    if not 1 <= len(name) <= NAME_MAX:
        raise ValidationError(f"A name has 1 to {NAME_MAX} characters.", field="name")
    return name


def username_from_email(email: str) -> str:
    """A username for an account created without one: the email's local part, kept to
    the username's characters (seed 004 creates users by email and display name)."""
    local = re.sub(r"[^A-Za-z0-9_.-]", "", email.split("@", 1)[0]).lstrip("._-")[:40]
    return local if len(local) >= 3 else f"user-{local}".rstrip("-")


class UserAdmin:
    """Mixed into AuthService, which provides these attributes."""

    engine: GraphEngine
    redis: aioredis.Redis
    tokens: Tokens
    passwords: Passwords
    revocations: Revocations

    def last_access_expiry(self) -> int:
        """When the last access token issued until now expires (epoch seconds)."""
        return int(time.time()) + self.tokens.config.access_ttl + self.tokens.config.leeway

    async def admin_create_user(
        self, email: str, username: str | None, name: str | None, password: str, role: str
    ) -> Row:
        """A user with any role, without a session; CONFLICT if email or username is taken."""
        email = clean_email(email)
        username = username if username is not None else username_from_email(email)
        check_username(username)
        check_password(password)
        if role not in users.ROLES:
            raise ValidationError("Unknown role.", field="role")
        password_hash = await self.passwords.hash(password)
        return await users.create_user(
            self.engine,
            email,
            username,
            password_hash,
            role,
            clean_name(name) if name is not None else None,
        )

    async def admin_update_user(
        self,
        user_id: str,
        email: str | None = None,
        username: str | None = None,
        name: str | None = None,
        password: str | None = None,
        role: str | None = None,
    ) -> Row:
        """Change what is given in one write. A new password ends the user's sessions;
        a new role reaches their access tokens when they next refresh."""
        ids.require_id(user_id, "User")
        if username is not None:
            check_username(username)
        if password is not None:
            check_password(password)
        if role is not None and role not in users.ROLES:
            raise ValidationError("Unknown role.", field="role")
        changes = {
            "email": clean_email(email) if email is not None else None,
            "username": username,
            "name": clean_name(name) if name is not None else None,
            "role": role,
            "password_hash": await self.passwords.hash(password) if password else None,
        }
        row = await users.admin_update_user(self.engine, user_id, changes)
        if password is not None:
            ended = await users.revoke_other_families(self.engine, user_id, keep="")
            await self.revocations.revoke_families(ended, self.last_access_expiry())
        return row

    async def remove_user(self, user_id: str) -> list[str]:
        """Delete a user with what they own; every token and API key of theirs stops
        working at once. The last admin stays (CONFLICT). Returns the ids of the
        collections that went."""
        # Every access token of the user was issued before now: none outlives `until`.
        until = self.last_access_expiry()
        entry = user_entry(user_id)
        deleted = await users.delete_user(self.engine, user_id, entry, until * 1000)
        await self.revocations.remember(entry, until)
        if deleted["key_ids"]:
            # Should Redis be down, the cache entries expire within a minute.
            with contextlib.suppress(RedisError):
                await self.redis.delete(*(API_KEY_CACHE + k for k in deleted["key_ids"]))
        return [str(c) for c in deleted["collection_ids"]]

    async def admin_delete_user(self, user_id: str) -> list[str]:
        ids.require_id(user_id, "User")
        try:
            return await self.remove_user(user_id)
        except ConflictError:
            raise ConflictError(
                "This is the only admin: make another admin before deleting it."
            ) from None
