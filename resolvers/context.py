"""The typed per-request context every resolver receives as `info.context`."""

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from graphql import GraphQLResolveInfo

from graph.engine import GraphEngine
from music.errors import NotFoundError
from resolvers.loaders import Loaders, viewer_of
from resolvers.permissions import ANONYMOUS, Principal


class AuthApi(Protocol):
    """What resolvers may ask of the server's auth service (server/auth/service.py)."""

    async def register(self, email: str, username: str, password: str) -> dict[str, Any]: ...

    async def login(
        self,
        login: str,
        password: str,
        check_account: Callable[[str], Awaitable[None]] | None = None,
    ) -> dict[str, Any]: ...

    async def refresh(self, token: str) -> dict[str, Any]: ...

    async def logout(self, principal: Principal, refresh_token: str | None) -> bool: ...

    async def change_password(
        self, principal: Principal, current: str, new: str, family: str | None
    ) -> bool: ...

    async def update_profile(
        self,
        principal: Principal,
        email: str | None,
        username: str | None,
        current_password: str | None = None,
        new_password: str | None = None,
        family: str | None = None,
    ) -> dict[str, Any]: ...

    async def delete_account(self, principal: Principal, password: str) -> list[str]: ...

    async def create_api_key(self, principal: Principal, name: str) -> dict[str, Any]: ...

    async def admin_create_user(
        self, email: str, username: str | None, name: str | None, password: str, role: str
    ) -> dict[str, Any]: ...

    async def admin_update_user(
        self,
        user_id: str,
        email: str | None = None,
        username: str | None = None,
        name: str | None = None,
        password: str | None = None,
        role: str | None = None,
    ) -> dict[str, Any]: ...

    async def admin_delete_user(self, user_id: str) -> list[str]: ...

    async def request_password_reset(self, email: str) -> None: ...

    async def reset_password(self, token: str, new_password: str) -> None: ...

    async def send_verification(self, user: dict[str, Any]) -> None: ...

    async def verify_email(self, token: str) -> dict[str, Any]: ...

    async def revoke_api_key(self, principal: Principal, key_id: str) -> dict[str, Any]: ...


class EventsApi(Protocol):
    """The event bus (events/)."""

    async def publish(self, channel: str, event_type: str, data: dict[str, Any]) -> None: ...

    def subscribe(
        self, *channels: str, maxsize: int | None = None
    ) -> AbstractAsyncContextManager[AsyncIterator[dict[str, Any]]]: ...


class JobsApi(Protocol):
    """The job queue (taskqueue/ JobQueue)."""

    async def submit(
        self,
        engine: GraphEngine,
        kind: str,
        params: dict[str, Any],
        owner_id: str | None,
        track_id: str | None = None,
    ) -> dict[str, Any]: ...


class MediaApi(Protocol):
    """Audio a request brings in, and the paths and URLs it names (server/media.py)."""

    async def ingest_upload(
        self, engine: GraphEngine, upload: Any, metadata: dict[str, Any] | None
    ) -> tuple[dict[str, Any], bool]: ...

    async def predict_upload(self, engine: GraphEngine, upload: Any) -> dict[str, Any]: ...

    async def stage_batch(self, uploads: list[Any]) -> dict[str, Any]: ...

    def discard_batch(self, batch: str) -> None: ...

    def scan_root(self, path: str) -> Path: ...

    def check_webhook(self, url: str) -> str: ...


class AdminApi(Protocol):
    """Maintenance mode and the system status (server/admin.py)."""

    async def maintenance(self) -> dict[str, Any]: ...

    async def set_maintenance(self, enabled: bool, message: str | None) -> dict[str, Any]: ...

    async def status(self) -> dict[str, Any]: ...


class UsageApi(Protocol):
    """Each user's request counts (server/usage.py)."""

    async def figures(self, user_id: str) -> dict[str, Any]: ...


@dataclass
class RequestContext:
    engine: GraphEngine
    request_id: str
    principal: Principal = ANONYMOUS
    auth: AuthApi | None = None
    events: EventsApi | None = None
    request: Any = None
    jobs: JobsApi | None = None
    settings: Any = None
    admin: AdminApi | None = None
    media: MediaApi | None = None
    usage: UsageApi | None = None
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.engine)

    @property
    def auth_api(self) -> AuthApi:
        if self.auth is None:
            raise RuntimeError("no auth service in this context")
        return self.auth

    @property
    def events_api(self) -> EventsApi:
        if self.events is None:
            raise RuntimeError("no event bus in this context")
        return self.events

    @property
    def jobs_api(self) -> JobsApi:
        if self.jobs is None:
            raise RuntimeError("no job queue in this context")
        return self.jobs

    @property
    def media_api(self) -> MediaApi:
        if self.media is None:
            raise RuntimeError("no media service in this context")
        return self.media

    @property
    def usage_api(self) -> UsageApi:
        if self.usage is None:
            raise RuntimeError("no usage counter in this context")
        return self.usage

    @property
    def admin_api(self) -> AdminApi:
        if self.admin is None:
            raise RuntimeError("no admin service in this context")
        return self.admin

    async def require_visible_collection(self, collection_id: str) -> None:
        """NOT_FOUND unless the caller may see the collection (private ones: owner, admin)."""
        loader = self.loaders.collection_by_id(viewer_of(self.principal))
        if await loader.load(collection_id) is None:
            raise NotFoundError(f"Collection {collection_id} does not exist.")

    async def publish(self, channel: str, event_type: str, data: dict[str, Any]) -> None:
        """Publish an event, after the change it reports has committed."""
        if self.events is not None:
            await self.events.publish(channel, event_type, data)


Info = GraphQLResolveInfo[RequestContext]
