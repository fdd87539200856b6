"""`@requires(permission: …)` and `@public`, and the default rule for root fields.

The check wraps the field's resolver, so it runs before any loader or graph call.
A root field with neither directive requires READ_MEDIA (queries, subscriptions) or
WRITE_MEDIA (mutations): nothing is reachable, and nothing changes, without that.
"""

from collections.abc import Callable
from typing import Any

from ariadne import SchemaDirectiveVisitor
from graphql import GraphQLField, GraphQLObjectType, GraphQLSchema, default_field_resolver

from resolvers.permissions import PERMISSIONS, READ_MEDIA, WRITE_MEDIA

Resolver = Callable[..., Any]
_CHECKED = "_apollonia_permission"


def _guard(resolver: Resolver, permission: str) -> Resolver:
    def guarded(obj: Any, info: Any, **kwargs: Any) -> Any:
        info.context.principal.require(permission)
        return resolver(obj, info, **kwargs)

    return guarded


def _protect(field: GraphQLField, permission: str | None) -> None:
    setattr(field, _CHECKED, permission or "public")
    if permission is None:
        return
    field.resolve = _guard(field.resolve or default_field_resolver, permission)
    if field.subscribe is not None:
        field.subscribe = _guard(field.subscribe, permission)


class RequiresDirective(SchemaDirectiveVisitor):
    def visit_field_definition(self, field: GraphQLField, object_type: Any) -> GraphQLField:
        _protect(field, PERMISSIONS[self.args["permission"]])
        return field


class PublicDirective(SchemaDirectiveVisitor):
    def visit_field_definition(self, field: GraphQLField, object_type: Any) -> GraphQLField:
        _protect(field, None)
        return field


DIRECTIVES: dict[str, type[SchemaDirectiveVisitor]] = {
    "requires": RequiresDirective,  # type: ignore[type-abstract]
    "public": PublicDirective,  # type: ignore[type-abstract]
}


def protect_root_fields(schema: GraphQLSchema) -> GraphQLSchema:
    """Give every root field without a declared rule its default requirement:
    WRITE_MEDIA for a mutation (it changes something), READ_MEDIA otherwise."""
    defaults = (
        (schema.query_type, READ_MEDIA),
        (schema.mutation_type, WRITE_MEDIA),
        (schema.subscription_type, READ_MEDIA),
    )
    for root, permission in defaults:
        if isinstance(root, GraphQLObjectType):
            for field in root.fields.values():
                if not hasattr(field, _CHECKED):
                    _protect(field, permission)
    return schema


def field_rule(field: GraphQLField) -> str | None:
    """The permission a root field requires ("public" for none), for tests and docs."""
    return getattr(field, _CHECKED, None)
