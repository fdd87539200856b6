"""The plain fields of a schema: the ones graphql-core's per-field machinery can be
spared.

Most fields of a page are values read from the row under them (`title`, `year`, an
artist's `name`): no arguments, no resolver of ours (graphql-core's default, or the
one Ariadne's name conversion sets, which reads the snake_case key). For each of them
graphql-core builds a resolve-info record, calls a resolver that reads one key, and
walks its completion steps: about two thirds of a nested page's fields, and most of
its execution time.

`plan_for` says whether a field is plain and how to read it: the row's key, and for a
scalar or enum (or a list of them) the type's output coercion. `read_leaf` and
`read_object` then do the work for values that need nothing else. Anything out of the
ordinary (a missing value under a non-null type, a source that is not a dict, a
callable, a value the coercion refuses) answers `UNPLAIN`, and the caller takes
graphql-core's own path for that field or object, so errors, their messages and their
paths are graphql-core's (tests/test_leaf_fields.py runs both side by side).
"""

import inspect
import weakref
from collections.abc import Callable
from typing import Any, NamedTuple

from ariadne import is_default_resolver
from graphql import (
    GraphQLField,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    Undefined,
    default_field_resolver,
    is_leaf_type,
)

LEAF, LEAVES, COMPOSITE = 0, 1, 2


class FieldPlan(NamedTuple):
    key: str
    # LEAF: a scalar or enum; LEAVES: a list of them; COMPOSITE: anything else.
    kind: int
    type: GraphQLOutputType
    non_null: bool
    # LEAF and LEAVES: the scalar's or enum's output coercion; LEAVES: items non-null.
    coerce: Callable[[Any], Any] = str
    items_non_null: bool = False
    # `__typename`: the object type's name, whatever the row holds.
    typename: str | None = None


UNPLAIN: Any = object()
Plans = dict[tuple[str, str], FieldPlan | None]


def _alias_key(resolver: Any) -> str | None:
    """The key an Ariadne `resolve_to` resolver reads, if it can be told for sure."""
    try:
        key = inspect.getclosurevars(resolver).nonlocals.get("attr_name")
    except (TypeError, ValueError):
        return None
    return key if isinstance(key, str) and "." not in key else None


def _key(field_name: str, field: GraphQLField, field_resolver: Any) -> str | None:
    """The row key the field's resolver reads, if it is a default one; else None."""
    if field.args or field.subscribe is not None:
        return None
    resolve = field.resolve
    if resolve is None or resolve is default_field_resolver:
        return field_name if (resolve or field_resolver) is default_field_resolver else None
    return _alias_key(resolve) if is_default_resolver(resolve) else None


def field_plan(field_name: str, field: GraphQLField, field_resolver: Any) -> FieldPlan | None:
    """How to read `field` without graphql-core's machinery, or None when it needs it:
    a resolver of ours, or arguments."""
    key = _key(field_name, field, field_resolver)
    if key is None:
        return None
    return_type = field.type
    non_null = isinstance(return_type, GraphQLNonNull)
    inner = return_type.of_type if isinstance(return_type, GraphQLNonNull) else return_type
    if is_leaf_type(inner):
        assert isinstance(inner, GraphQLLeafType)
        return FieldPlan(key, LEAF, return_type, non_null, inner.coerce_output_value)
    if isinstance(inner, GraphQLList):
        item = inner.of_type
        items_non_null = isinstance(item, GraphQLNonNull)
        item = item.of_type if isinstance(item, GraphQLNonNull) else item
        if is_leaf_type(item):
            assert isinstance(item, GraphQLLeafType)
            return FieldPlan(
                key, LEAVES, return_type, non_null, item.coerce_output_value, items_non_null
            )
    return FieldPlan(key, COMPOSITE, return_type, non_null)


_PLANS: "weakref.WeakKeyDictionary[GraphQLSchema, Plans]" = weakref.WeakKeyDictionary()


def plans_for(schema: GraphQLSchema) -> Plans:
    """The plans worked out so far for `schema`'s fields (see `plan_for`)."""
    plans = _PLANS.get(schema)
    if plans is None:
        plans = _PLANS.setdefault(schema, {})
    return plans


def plan_for(
    plans: Plans, parent_type: GraphQLObjectType, field_name: str, field_resolver: Any
) -> FieldPlan | None:
    """`field_plan` of `parent_type.field_name`, worked out once into `plans`."""
    key = (parent_type.name, field_name)
    try:
        return plans[key]
    except KeyError:
        pass
    field = parent_type.fields.get(field_name)
    plan: FieldPlan | None
    if field_name == "__typename":
        plan = FieldPlan("", LEAF, parent_type, True, typename=parent_type.name)
    else:
        plan = field_plan(field_name, field, field_resolver) if field is not None else None
    plans[key] = plan
    return plan


def read_value(plan: FieldPlan, source: Any) -> Any:
    """The row's value for the field, uncompleted, or UNPLAIN when the default resolver
    would do more than read it (a source that is not a dict, a callable, an error)."""
    if type(source) is not dict:
        return UNPLAIN
    value = source.get(plan.key)
    if callable(value) or isinstance(value, Exception):
        return UNPLAIN
    return value


def _coerced(coerce: Callable[[Any], Any], value: Any) -> Any:
    try:
        coerced = coerce(value)
    except Exception:  # graphql-core's path reports it, located
        return UNPLAIN
    if coerced is None or coerced is Undefined:
        return UNPLAIN
    return coerced


def read_leaf(plan: FieldPlan, source: Any) -> Any:
    """The completed value of a LEAF or LEAVES field for `source`, or UNPLAIN."""
    if plan.typename is not None:
        return plan.typename
    value = read_value(plan, source)
    if value is None:
        return UNPLAIN if plan.non_null else None
    if value is UNPLAIN:
        return value
    if plan.kind == LEAF:
        return _coerced(plan.coerce, value)
    if plan.kind != LEAVES or type(value) is not list:
        return UNPLAIN
    items: list[Any] = []
    for item in value:
        if item is None:
            if plan.items_non_null:
                return UNPLAIN
            items.append(None)
            continue
        coerced = _coerced(plan.coerce, item)
        if coerced is UNPLAIN:
            return UNPLAIN
        items.append(coerced)
    return items


def read_object(plans: list[tuple[str, FieldPlan]], source: Any) -> Any:
    """The completed object of the fields `plans` (response name, LEAF or LEAVES plan)
    for `source`, or UNPLAIN if any of them is not plain here."""
    if type(source) is not dict:
        return UNPLAIN
    results: dict[str, Any] = {}
    for response_name, plan in plans:
        value = read_leaf(plan, source)
        if value is UNPLAIN:
            return UNPLAIN
        results[response_name] = value
    return results
