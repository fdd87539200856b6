"""Roles, permissions and the caller of a request (its principal)."""

from dataclasses import dataclass, field

from music.errors import ForbiddenError, UnauthenticatedError

READ_MEDIA = "read:media"
WRITE_MEDIA = "write:media"
DELETE_MEDIA = "delete:media"
VIEW_ANALYTICS = "view:analytics"
MANAGE_USERS = "manage:users"
ADMIN_ACCESS = "admin:access"

# The SDL's Permission enum values, as permission strings.
PERMISSIONS: dict[str, str] = {
    "READ_MEDIA": READ_MEDIA,
    "WRITE_MEDIA": WRITE_MEDIA,
    "DELETE_MEDIA": DELETE_MEDIA,
    "VIEW_ANALYTICS": VIEW_ANALYTICS,
    "MANAGE_USERS": MANAGE_USERS,
    "ADMIN_ACCESS": ADMIN_ACCESS,
}

_USER = frozenset({READ_MEDIA, WRITE_MEDIA, VIEW_ANALYTICS})
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "guest": frozenset({READ_MEDIA}),
    "user": _USER,
    "moderator": _USER | {DELETE_MEDIA},
    "admin": frozenset(PERMISSIONS.values()),
}


@dataclass(frozen=True)
class Principal:
    """Who is calling. `user_id` is None for anonymous callers."""

    user_id: str | None
    role: str
    permissions: frozenset[str] = field(default_factory=frozenset)
    via: str = "anonymous"  # "jwt", "api_key" or "anonymous"
    jti: str | None = None
    expires_at: int | None = None  # epoch seconds of the access token
    family: str | None = None  # the session (refresh-token family) of the access token

    @classmethod
    def for_role(cls, user_id: str | None, role: str, via: str, **token: object) -> "Principal":
        return cls(user_id, role, ROLE_PERMISSIONS.get(role, frozenset()), via, **token)  # type: ignore[arg-type]

    @property
    def is_admin(self) -> bool:
        return ADMIN_ACCESS in self.permissions

    def require(self, permission: str) -> None:
        """Raise unless the caller holds `permission`: UNAUTHENTICATED for an anonymous
        caller who could sign in, FORBIDDEN for a known one."""
        if permission in self.permissions:
            return
        if self.user_id is None:
            raise UnauthenticatedError("Sign in to do this.")
        raise ForbiddenError("You are not allowed to do this.")

    def require_user(self) -> str:
        """The caller's user id; UNAUTHENTICATED for anonymous callers."""
        if self.user_id is None:
            raise UnauthenticatedError("Sign in to do this.")
        return self.user_id


ANONYMOUS = Principal(None, "anonymous")
ANONYMOUS_GUEST = Principal.for_role(None, "guest", "anonymous")
