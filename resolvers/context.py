"""The typed per-request context every resolver receives as `info.context`."""

from dataclasses import dataclass, field
from typing import Any

from graphql import GraphQLResolveInfo

from graph.engine import GraphEngine
from resolvers.loaders import Loaders


@dataclass
class RequestContext:
    engine: GraphEngine
    request_id: str
    request: Any = None
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.engine)


Info = GraphQLResolveInfo[RequestContext]
