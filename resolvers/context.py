"""The typed per-request context every resolver receives as `info.context`."""

from dataclasses import dataclass, field
from typing import Any, Protocol

from graphql import GraphQLResolveInfo

from graph.engine import GraphEngine
from resolvers.loaders import Loaders
from resolvers.permissions import ANONYMOUS, Principal


class AuthApi(Protocol):
    """What resolvers may ask of the server's auth service (server/auth/service.py)."""

    async def register(self, email: str, username: str, password: str) -> dict[str, Any]: ...

    async def login(self, login: str, password: str) -> dict[str, Any]: ...

    async def refresh(self, token: str) -> dict[str, Any]: ...

    async def logout(self, principal: Principal, refresh_token: str | None) -> bool: ...

    async def change_password(
        self, principal: Principal, current: str, new: str, family: str | None
    ) -> bool: ...

    async def create_api_key(self, principal: Principal, name: str) -> dict[str, Any]: ...

    async def revoke_api_key(self, principal: Principal, key_id: str) -> dict[str, Any]: ...


@dataclass
class RequestContext:
    engine: GraphEngine
    request_id: str
    principal: Principal = ANONYMOUS
    auth: AuthApi | None = None
    request: Any = None
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.engine)

    @property
    def auth_api(self) -> AuthApi:
        if self.auth is None:
            raise RuntimeError("no auth service in this context")
        return self.auth


Info = GraphQLResolveInfo[RequestContext]
