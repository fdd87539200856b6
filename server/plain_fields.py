"""Plain fields: the part of a response graphql-core's per-field machinery can be
spared.

Most fields of a page are values read from the row under them (`title`, `year`, an
artist's `name`): no arguments, and no resolver of ours: graphql-core's default, the
one Ariadne's name conversion sets (it reads the snake_case key), or one marked with a
`PlainRead` (resolvers/_prefetch.py): a relation whose look-ahead put its rows under
the row's `_<field>` key, or a key whose null reads as empty. For each of them
graphql-core builds a resolve-info record, calls a resolver that reads one key, and
walks its completion steps, value by value: most of a nested page's execution time.

`PlainFields`, mixed into the executor, completes such fields, and whole objects and
lists whose selections hold only such fields, in one walk over the rows. Anything out
of the ordinary (a missing value under a non-null type, a row that is not a dict, a
callable, a value a scalar refuses, an abstract type, `is_type_of`, a prefetched key
that is absent) answers `UNPLAIN`, and that field or object takes graphql-core's own
path, so errors, their messages and their paths are graphql-core's
(tests/test_plain_fields.py runs both side by side, on hand-made and generated
documents).
"""

import inspect
import weakref
from collections.abc import Callable
from typing import Any, NamedTuple

from ariadne import is_default_resolver
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLScalarType,
    GraphQLSchema,
    Undefined,
    default_field_resolver,
    is_leaf_type,
    specified_scalar_types,
)
from graphql.execution.collect_fields import FieldDetailsList
from graphql.pyutils import Path

from resolvers._prefetch import PLAIN_READ, PlainRead

LEAF, LEAVES, COMPOSITE = 0, 1, 2
# graphql-core's own scalars that return a value of this type as it is.
_SAME: dict[str, type] = {"String": str, "ID": str, "Boolean": bool}
# Values that are never called or raised by a default resolver.
_DATA = frozenset({str, int, float, bool, list, dict})


PyType = type  # (FieldPlan has a field named `type`)


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
    # A prefetched relation: without the key, its resolver loads it (not plain).
    required: bool = False
    # What a null or absent value reads as.
    empty: Any = None
    # LEAF: the Python type whose values the coercion returns unchanged (str for
    # String and ID, bool for Boolean), checked before calling it.
    same: PyType | None = None


UNPLAIN: Any = object()
_ABSENT: Any = object()
Plans = dict[tuple[str, str], FieldPlan | None]
ObjectPlan = list[tuple[str, FieldPlan, FieldDetailsList]]


def _alias_key(resolver: Any) -> str | None:
    """The key an Ariadne `resolve_to` resolver reads, if it can be told for sure."""
    try:
        key = inspect.getclosurevars(resolver).nonlocals.get("attr_name")
    except (TypeError, ValueError):
        return None
    return key if isinstance(key, str) and "." not in key else None


def _read(field_name: str, field: GraphQLField, field_resolver: Any) -> PlainRead | None:
    """What the field's resolver reads from its row, if that is all it does."""
    if field.args or field.subscribe is not None:
        return None
    resolve = field.resolve
    if resolve is None or resolve is default_field_resolver:
        if (resolve or field_resolver) is default_field_resolver:
            return PlainRead(field_name)
        return None
    read = getattr(resolve, PLAIN_READ, None)
    if isinstance(read, PlainRead):
        return read
    alias = _alias_key(resolve) if is_default_resolver(resolve) else None
    return PlainRead(alias) if alias is not None else None


def _unwrapped(type_: Any) -> tuple[Any, bool]:
    """A type without its non-null wrapper, and whether it had one."""
    if isinstance(type_, GraphQLNonNull):
        return type_.of_type, True
    return type_, False


def field_plan(field_name: str, field: GraphQLField, field_resolver: Any) -> FieldPlan | None:
    """How to read `field` without graphql-core's machinery, or None when it needs it:
    a resolver that does more than read a key, or arguments."""
    read = _read(field_name, field, field_resolver)
    if read is None:
        return None
    key, required, empty = read
    return_type = field.type
    inner, non_null = _unwrapped(return_type)
    if is_leaf_type(inner):
        assert isinstance(inner, GraphQLLeafType)
        coerce = inner.coerce_output_value
        same = _SAME.get(inner.name) if inner is specified_scalar_types.get(inner.name) else None
        return FieldPlan(
            key, LEAF, return_type, non_null, coerce, False, None, required, empty, same
        )
    if isinstance(inner, GraphQLList):
        item, items_non_null = _unwrapped(inner.of_type)
        if is_leaf_type(item):
            assert isinstance(item, GraphQLLeafType)
            coerce = item.coerce_output_value
            return FieldPlan(
                key, LEAVES, return_type, non_null, coerce, items_non_null, None, required, empty
            )
    return FieldPlan(key, COMPOSITE, return_type, non_null, required=required, empty=empty)


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


def _coerced(coerce: Callable[[Any], Any], value: Any) -> Any:
    try:
        coerced = coerce(value)
    except Exception:  # graphql-core's path reports it, located
        return UNPLAIN
    if coerced is None or coerced is Undefined:
        return UNPLAIN
    return coerced


def complete_leaves(plan: FieldPlan, value: Any) -> Any:
    """`value` (not null) completed as the LEAVES field of `plan`, or UNPLAIN."""
    if type(value) is not list:
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


class PlainFields:
    """Executor methods (for a subclass of graphql-core's executor) that complete plain
    fields, and objects and lists of them, without graphql-core's per-field steps."""

    schema: GraphQLSchema
    field_resolver: Any
    middleware_manager: Any
    collect_subfields: Callable[..., Any]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.field_plans = plans_for(self.schema)
        # No field middleware to honour, and no @stream to deliver lists with.
        self.plain = self.middleware_manager is None and self.schema.get_directive("stream") is None
        # Per grouped field set of this execution (graphql-core keeps each for the
        # execution): its fields' plans, or None if one is not plain.
        self.object_plans: dict[int, tuple[Any, ObjectPlan | None]] = {}

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: FieldDetailsList,
        path: Path,
        position_context: Any,
    ) -> Any:
        """A plain field of a dict row is read, and completed, here when it can be."""
        if self.plain and position_context is None and type(source) is dict:
            plan = plan_for(
                self.field_plans,
                parent_type,
                field_details_list[0].node.name.value,
                self.field_resolver,
            )
            if plan is not None:
                value = self.plain_field(plan, field_details_list, source)
                if value is not UNPLAIN:
                    return value
        return super().execute_field(  # type: ignore[misc]
            parent_type, source, field_details_list, path, position_context
        )

    def complete_value(
        self,
        return_type: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        info: GraphQLResolveInfo[Any],
        path: Path,
        result: Any,
        position_context: Any,
    ) -> Any:
        """A resolver's object, or list of objects, whose selections are all plain is
        completed here; anything else takes graphql-core's path."""
        if self.plain and position_context is None:
            completed = self.plain_value(return_type, field_details_list, result)
            if completed is not UNPLAIN:
                return completed
        return super().complete_value(  # type: ignore[misc]
            return_type, field_details_list, info, path, result, position_context
        )

    def plain_field(
        self, plan: FieldPlan, field_details_list: FieldDetailsList, source: Any
    ) -> Any:
        """The field of `plan` completed from the row `source`, or UNPLAIN."""
        completed = self.plain_object([("", plan, field_details_list)], source)
        return completed if completed is UNPLAIN else completed[""]

    def plain_value(
        self, return_type: GraphQLOutputType, field_details_list: FieldDetailsList, result: Any
    ) -> Any:
        """`result` completed as `return_type`, an object or a list of objects (or of
        lists) whose selections are all plain, or UNPLAIN."""
        if isinstance(return_type, GraphQLNonNull):
            if result is None:
                return UNPLAIN
            return_type = return_type.of_type
        elif result is None:
            return None
        if isinstance(return_type, GraphQLScalarType | GraphQLEnumType):
            if callable(result) or isinstance(result, Exception):
                return UNPLAIN
            return _coerced(return_type.coerce_output_value, result)
        if isinstance(return_type, GraphQLList):
            if type(result) is not list:
                return UNPLAIN
            item_type = return_type.of_type
            inner, items_non_null = _unwrapped(item_type)
            items: list[Any] = []
            if type(inner) is GraphQLObjectType:  # the plan once for the whole list
                fields = self.object_plan(inner, field_details_list)
                if fields is None:
                    return UNPLAIN
                for item in result:
                    if item is None:
                        if items_non_null:
                            return UNPLAIN
                        items.append(None)
                        continue
                    value = self.plain_object(fields, item)
                    if value is UNPLAIN:
                        return value
                    items.append(value)
                return items
            for item in result:
                value = self.plain_value(item_type, field_details_list, item)
                if value is UNPLAIN:
                    return value
                items.append(value)
            return items
        if type(return_type) is not GraphQLObjectType:
            return UNPLAIN
        fields = self.object_plan(return_type, field_details_list)
        if fields is None:
            return UNPLAIN
        return self.plain_object(fields, result)

    def plain_object(self, fields: ObjectPlan, source: Any) -> Any:
        """The object of `fields` (all plain) completed from the row `source`, or
        UNPLAIN when a field's resolver would do more than read it (a row that is not a
        dict, a callable, an error, a prefetched relation that is absent) or its value
        is out of the ordinary. One loop for every field of every object of a page."""
        if type(source) is not dict:
            return UNPLAIN
        get = source.get
        completed: dict[str, Any] = {}
        for response_name, plan, sub_fields in fields:
            if plan.typename is not None:
                completed[response_name] = plan.typename
                continue
            value = get(plan.key, _ABSENT)
            if value is _ABSENT:
                if plan.required:
                    return UNPLAIN
                value = plan.empty
            elif value is None:
                value = plan.empty
            if value is None:
                if plan.non_null:
                    return UNPLAIN
                completed[response_name] = None
                continue
            kind = type(value)
            if kind is plan.same:
                completed[response_name] = value
                continue
            if kind not in _DATA and (callable(value) or isinstance(value, Exception)):
                return UNPLAIN
            if plan.kind == LEAF:
                value = _coerced(plan.coerce, value)
            elif plan.kind == LEAVES:
                value = complete_leaves(plan, value)
            else:
                value = self.plain_value(plan.type, sub_fields, value)
            if value is UNPLAIN:
                return value
            completed[response_name] = value
        return completed

    def object_plan(
        self, object_type: GraphQLObjectType, field_details_list: FieldDetailsList
    ) -> ObjectPlan | None:
        """The plans of the fields selected on `object_type`, or None unless all are
        plain (and the type has no `is_type_of` to check)."""
        if object_type.is_type_of is not None:
            return None
        grouped_field_set = self.collect_subfields(object_type, field_details_list)[0]
        kept = self.object_plans.get(id(grouped_field_set))
        if kept is not None and kept[0] is grouped_field_set:
            return kept[1]
        fields: ObjectPlan | None = []
        for response_name, sub_fields in grouped_field_set.items():
            plan = plan_for(
                self.field_plans, object_type, sub_fields[0].node.name.value, self.field_resolver
            )
            if plan is None or fields is None:
                fields = None
                break
            fields.append((response_name, plan, sub_fields))
        self.object_plans[id(grouped_field_set)] = (grouped_field_set, fields)
        return fields
