"""Limits on what one GraphQL document may ask for: depth, aliases, tokens and cost.

Every limit is checked before execution, so a refused document runs no resolver. A
refusal is a GraphQL error with code QUERY_TOO_COMPLEX and the figures in
`extensions`: `{"code": "QUERY_TOO_COMPLEX", "limit": "depth", "measured": 12,
"allowed": 10}`.

Depth and aliases depend on the document alone, so they are validation rules whose
result the DocumentCache keeps. The cost (Ariadne's cost analysis over the `@cost`
annotations in the SDL) also depends on the variables when the document declares
any: such a rule is marked `per_request` and is run for every request instead. Only
the variables that reach a multiplier argument (`first` and the like) can change a
cost, so the rule also carries `result_key`, their values: a DocumentCache that saw
the document pass with those values need not run it again (`track(id: $id)` has none,
and is costed once).
"""

import json
from collections.abc import Callable, Hashable
from typing import Any, cast

from ariadne.validation.query_cost import CostValidator
from cachetools import LRUCache
from graphql import (
    SKIP,
    ArgumentNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    ListValueNode,
    Node,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    VariableNode,
    Visitor,
    visit,
)
from graphql.language import Lexer, Source, TokenKind
from graphql.validation import ASTValidationRule

QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"

_WHAT = {
    "depth": "is nested {measured} levels deep; at most {allowed} are allowed",
    "aliases": "uses {measured} aliases; at most {allowed} are allowed",
    "tokens": "has {measured} tokens; at most {allowed} are allowed",
    "cost": "has a cost of {measured}; at most {allowed} is allowed",
}

# `ofType` only walks down one wrapped type (a list of non-null of …): a chain of them
# cannot fan out, and introspection queries (GraphiQL's, graphql-core's) nest it 7 to
# 9 deep. Every other field counts, introspection's own included: `fields { type {
# fields { … } } }` does fan out.
_LINEAR_FIELDS = frozenset({"ofType"})


def too_complex(
    limit: str, measured: int, allowed: int, nodes: list[Node] | None = None
) -> GraphQLError:
    """The error for a document over one of the limits."""
    message = "The query " + _WHAT[limit].format(measured=measured, allowed=allowed) + "."
    return GraphQLError(
        message,
        nodes,
        extensions={
            "code": QUERY_TOO_COMPLEX,
            "limit": limit,
            "measured": measured,
            "allowed": allowed,
        },
    )


def count_tokens(text: str) -> int:
    """The lexical tokens in `text` (comments left out, like `max_lexical_tokens`),
    up to the first lexical error."""
    lexer = Lexer(Source(text))
    count = 0
    try:
        while lexer.advance().kind is not TokenKind.EOF:
            count += 1
    except GraphQLError:
        pass
    return count


class _Measure:
    """Folds a figure over an operation's selections, following fragment spreads.

    A fragment's figure is computed once and reused for every spread of it; a spread
    that closes a cycle counts as nothing (NoFragmentCyclesRule reports the cycle).
    """

    def __init__(self, context: ValidationContext) -> None:
        self.context = context
        self.fragments: dict[str, int] = {}
        self.active: set[str] = set()

    def field(self, node: FieldNode, inner: int) -> int:
        raise NotImplementedError

    def combine(self, figures: list[int]) -> int:
        raise NotImplementedError

    def of(self, selection_set: SelectionSetNode | None) -> int:
        if selection_set is None:
            return 0
        figures = []
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                figures.append(self.field(selection, self.of(selection.selection_set)))
            elif isinstance(selection, InlineFragmentNode):
                figures.append(self.of(selection.selection_set))
            elif isinstance(selection, FragmentSpreadNode):
                figures.append(self.spread(selection.name.value))
        return self.combine(figures)

    def spread(self, name: str) -> int:
        if name in self.fragments:
            return self.fragments[name]
        fragment: FragmentDefinitionNode | None = self.context.get_fragment(name)
        if fragment is None or name in self.active:
            return 0
        self.active.add(name)
        self.fragments[name] = figure = self.of(fragment.selection_set)
        self.active.discard(name)
        return figure


class _Depth(_Measure):
    """Levels of selection sets below the root, as graphql-depth-limit counts them."""

    def field(self, node: FieldNode, inner: int) -> int:
        if node.selection_set is None or node.name.value in _LINEAR_FIELDS:
            return inner
        return inner + 1

    def combine(self, figures: list[int]) -> int:
        return max(figures, default=0)


class _Aliases(_Measure):
    """Aliases as executed: a fragment's count again for each spread of it."""

    def field(self, node: FieldNode, inner: int) -> int:
        return inner + (node.alias is not None)

    def combine(self, figures: list[int]) -> int:
        return sum(figures)


def _operation_limit(limit: str, measure: type[_Measure], allowed: int) -> type[ASTValidationRule]:
    class OperationLimit(ValidationRule):
        """Measures each operation once, from its root, and skips everything else."""

        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            self.measure = measure(context)

        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> Any:
            measured = self.measure.of(node.selection_set)
            if measured > allowed:
                self.report_error(too_complex(limit, measured, allowed, [node]))
            return SKIP

        def enter_fragment_definition(self, *_: Any) -> Any:
            return SKIP

    OperationLimit.__name__ = f"{limit.capitalize()}Limit"
    return OperationLimit


def depth_rule(max_depth: int) -> type[ASTValidationRule]:
    """Refuse operations nested deeper than `max_depth`: `{ a }` is 0, `{ a { b } }` 1."""
    return _operation_limit("depth", _Depth, max_depth)


def alias_rule(max_aliases: int) -> type[ASTValidationRule]:
    """Refuse operations with more than `max_aliases` aliases, fragments expanded."""
    return _operation_limit("aliases", _Aliases, max_aliases)


class _CostLimit(CostValidator):
    per_request = False

    def enter_operation_definition(self, node: OperationDefinitionNode, *args: Any) -> Any:
        # Ariadne's rule computes the whole cost on entering an operation, then checks
        # it on leaving. Checking at once and skipping the subtree lets a visit with
        # this rule alone touch only the top-level definitions (see DocumentCache).
        super().enter_operation_definition(node, *args)  # type: ignore[no-untyped-call]
        self.leave_operation_definition(node, *args)  # type: ignore[no-untyped-call]
        return SKIP

    def enter_fragment_definition(self, *_: Any) -> Any:
        return SKIP

    def get_cost_exceeded_error(self) -> GraphQLError:
        return too_complex("cost", self.cost, self.maximum_cost)


def cost_rule(max_cost: int) -> type[ASTValidationRule]:
    """Ariadne's cost analysis with our error, for a document without variables: its
    result depends on the document alone, so the DocumentCache remembers it (a document
    with variables gets a PerRequestCost instead)."""

    class CostLimit(_CostLimit):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context, maximum_cost=max_cost)

    return CostLimit


class PerRequestCost:
    """The cost rule of one request's variables, built only if it runs: a factory the
    DocumentCache calls like a rule class (`rule(context)`). Making a class per request
    cost as much as validating `track(id: $id)`; most requests find their
    `result_key` remembered and never build one."""

    per_request = True

    def __init__(self, max_cost: int, variables: dict[str, Any] | None, result_key: Hashable):
        self.max_cost = max_cost
        self.variables = variables
        self.result_key = result_key

    def __call__(self, context: ValidationContext) -> ASTValidationRule:
        return _CostLimit(context, maximum_cost=self.max_cost, variables=self.variables)


def _declares_variables(document: DocumentNode) -> bool:
    return any(
        isinstance(definition, OperationDefinitionNode) and definition.variable_definitions
        for definition in document.definitions
    )


def multiplier_arguments(schema: GraphQLSchema) -> frozenset[str]:
    """The argument names that any `@cost(multipliers: [...])` of the schema reads (the
    first part of an accessor such as `filter.first`)."""
    names: set[str] = set()
    for named in schema.type_map.values():
        for field in getattr(named, "fields", {}).values():
            node = getattr(field, "ast_node", None)
            for directive in getattr(node, "directives", None) or ():
                if directive.name.value != "cost":
                    continue
                for argument in directive.arguments:
                    if argument.name.value == "multipliers" and isinstance(
                        argument.value, ListValueNode
                    ):
                        for value in argument.value.values:
                            names.add(str(getattr(value, "value", "")).split(".")[0])
    return frozenset(names)


class _MultiplierVariables(Visitor):
    """Collects the variables used inside the values of multiplier arguments."""

    def __init__(self, arguments: frozenset[str]) -> None:
        super().__init__()
        self.arguments = arguments
        self.found: set[str] = set()

    def enter_argument(self, node: ArgumentNode, *_: Any) -> Any:
        if node.name.value not in self.arguments:
            return SKIP
        return None

    def enter_variable_definition(self, *_: Any) -> Any:
        return SKIP  # `$id: ID!` declares a variable; it does not use it

    def enter_variable(self, node: VariableNode, *_: Any) -> Any:
        self.found.add(node.name.value)


# The longest variable value a cost result is remembered for (as JSON); a longer one
# is costed every time.
_MAX_KEY_CHARS = 256


class QueryLimits:
    """The limit rules for Ariadne's `validation_rules` hook.

    A document without variables gets the same three rule classes every time, so the
    DocumentCache can remember its whole validation; one with variables gets a cost
    rule of its own, built for those variables and run for every request, unless the
    DocumentCache remembers its `result_key` (the multiplier variables' values).
    """

    def __init__(
        self,
        max_depth: int,
        max_aliases: int,
        max_cost: int,
        multipliers: frozenset[str] | None = None,
        cache_size: int = 1024,
    ) -> None:
        self.max_cost = max_cost
        self.shape = [depth_rule(max_depth), alias_rule(max_aliases)]
        self.constant = [*self.shape, cost_rule(max_cost)]
        # None: which arguments multiply is unknown, so every variable counts.
        self.multipliers = multipliers
        self._relevant: LRUCache[int, tuple[DocumentNode, frozenset[str]]] = LRUCache(cache_size)

    def rules(
        self, context: Any, document: DocumentNode, data: dict[str, Any]
    ) -> list[type[ASTValidationRule]]:
        if not _declares_variables(document):
            return self.constant
        variables = data.get("variables") if isinstance(data, dict) else None
        if not isinstance(variables, dict):
            variables = None
        rule = PerRequestCost(self.max_cost, variables, self._result_key(document, variables or {}))
        return [*self.shape, cast(type[ASTValidationRule], rule)]

    def _result_key(self, document: DocumentNode, variables: dict[str, Any]) -> Hashable:
        """The values of the variables that can change the document's cost; None when
        they are too long to remember."""
        names = self._multiplier_variables(document)
        if names is None:
            names = frozenset(variables)
        try:
            key = json.dumps({n: variables.get(n) for n in sorted(names)}, sort_keys=True)
        except (TypeError, ValueError):
            return None
        return key if len(key) <= _MAX_KEY_CHARS else None

    def _multiplier_variables(self, document: DocumentNode) -> frozenset[str] | None:
        if self.multipliers is None:
            return None
        cached = self._relevant.get(id(document))
        if cached is not None and cached[0] is document:
            return cached[1]
        visitor = _MultiplierVariables(self.multipliers)
        visit(document, visitor)
        found = frozenset(visitor.found)
        self._relevant[id(document)] = (document, found)  # keeps the id from being reused
        return found


def is_per_request(rule: Callable[..., Any]) -> bool:
    """Whether a validation rule depends on the request, not only on the document."""
    return bool(getattr(rule, "per_request", False))
