"""Parsed and validated documents, cached by their text.

A repeated query (the common case: clients send the same documents all day) skips
parsing and validation, which cost about 1 ms each time for a nested page query.

Parsing stops at `max_tokens` lexical tokens (QUERY_TOO_COMPLEX). Validation is
remembered per document and rule set, except for rules marked per-request (the cost
of a document with variables, see server/query_limits.py): those run every time, and
only once the cached part has passed. A per-request rule with a `result_key` (see
QueryLimits) is remembered as passed for that key: the same document with the same
key passes again without a visit. Failures are never remembered.
"""

from collections.abc import Collection
from typing import Any

from cachetools import LRUCache
from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    GraphQLSyntaxError,
    ValidationContext,
    parse,
    validate,
    visit,
)
from graphql.utilities import TypeInfo
from graphql.validation import ASTValidationRule

from server.query_limits import count_tokens, is_per_request, too_complex

MAX_QUERY_LENGTH = 100_000


class DocumentCache:
    """A bounded LRU of parsed documents and of their validation results."""

    def __init__(self, size: int = 1024, max_tokens: int | None = None) -> None:
        self.size = size
        self.max_tokens = max_tokens
        self._documents: LRUCache[str, DocumentNode] = LRUCache(size)
        # Keyed by the document object's id and the rule set; the entry keeps the
        # document alive so that its id cannot be reused while cached.
        self._validated: LRUCache[tuple[int, int], tuple[DocumentNode, list[GraphQLError]]]
        self._validated = LRUCache(size)
        # Per-request rules that passed, by document id and their rules' result keys.
        self._passed: LRUCache[tuple[int, Any], DocumentNode] = LRUCache(size)

    def parse(self, context: Any, data: dict[str, Any]) -> DocumentNode:
        """Ariadne `query_parser`."""
        text = data["query"]
        document = self._documents.get(text)
        if document is not None:
            return document
        if len(text) > MAX_QUERY_LENGTH:
            raise GraphQLError(f"The query is longer than {MAX_QUERY_LENGTH} characters.")
        try:
            # max_lexical_tokens leaves comments out; the length check above bounds them.
            document = parse(text, max_lexical_tokens=self.max_tokens)
        except GraphQLSyntaxError as e:
            if self.max_tokens is None or f"more than {self.max_tokens} tokens" not in e.message:
                raise
            # The parser stopped at the limit; lexing the rest gives the figure.
            raise too_complex("tokens", count_tokens(text), self.max_tokens) from None
        self._documents[text] = document
        return document

    def validate(
        self,
        schema: GraphQLSchema,
        document_ast: DocumentNode,
        rules: Collection[type[ASTValidationRule]] | None = None,
        max_errors: int | None = None,
        type_info: TypeInfo | None = None,
    ) -> list[GraphQLError]:
        """Ariadne `query_validator`."""
        given = tuple(rules or ())
        per_request = [rule for rule in given if is_per_request(rule)]
        static = tuple(rule for rule in given if rule not in per_request) if per_request else given
        key = (id(document_ast), hash(static))
        cached = self._validated.get(key)
        if cached is not None and cached[0] is document_ast:
            errors = cached[1]
        else:
            errors = validate(schema, document_ast, rules=static or None, max_errors=max_errors)
            self._validated[key] = (document_ast, errors)
        if errors or not per_request:
            return errors
        result_keys = tuple(getattr(rule, "result_key", None) for rule in per_request)
        passed_key = None if None in result_keys else (id(document_ast), result_keys)
        if passed_key is not None and self._passed.get(passed_key) is document_ast:
            return []
        errors = _validate_per_request(schema, document_ast, per_request)
        if not errors and passed_key is not None:
            self._passed[passed_key] = document_ast
        return errors


def _validate_per_request(
    schema: GraphQLSchema, document: DocumentNode, rules: list[type[ASTValidationRule]]
) -> list[GraphQLError]:
    """Run rules that depend on the request, after the cached ones have passed.

    Unlike `validate`, this visits the document with the rules alone, without type
    info: a rule that skips the subtrees it does not need (the cost rule reads whole
    operations from their root) then costs a few µs instead of a full walk.
    """
    errors: list[GraphQLError] = []
    context = ValidationContext(schema, document, TypeInfo(schema), errors.append)
    for rule in rules:
        visit(document, rule(context))
    return errors
