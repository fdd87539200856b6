"""Parsed and validated documents, cached by their text.

A repeated query (the common case: clients send the same documents all day) skips
parsing and validation, which cost about 1 ms each time for a nested page query.
"""

from collections import OrderedDict
from collections.abc import Collection
from typing import Any

from graphql import DocumentNode, GraphQLError, GraphQLSchema, parse, validate
from graphql.utilities import TypeInfo
from graphql.validation import ASTValidationRule

MAX_QUERY_LENGTH = 100_000


class DocumentCache:
    """A bounded LRU of parsed documents and of their validation results."""

    def __init__(self, size: int = 1024) -> None:
        self.size = size
        self._documents: OrderedDict[str, DocumentNode] = OrderedDict()
        # Keyed by the document object's id and the rule set; the entry keeps the
        # document alive so that its id cannot be reused while cached.
        self._validated: OrderedDict[tuple[int, int], tuple[DocumentNode, list[GraphQLError]]]
        self._validated = OrderedDict()

    def _remember(self, cache: OrderedDict[Any, Any], key: Any, value: Any) -> None:
        cache[key] = value
        if len(cache) > self.size:
            cache.popitem(last=False)

    def parse(self, context: Any, data: dict[str, Any]) -> DocumentNode:
        """Ariadne `query_parser`."""
        text = data["query"]
        document = self._documents.get(text)
        if document is not None:
            self._documents.move_to_end(text)
            return document
        if len(text) > MAX_QUERY_LENGTH:
            raise GraphQLError(f"The query is longer than {MAX_QUERY_LENGTH} characters.")
        document = parse(text)
        self._remember(self._documents, text, document)
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
        key = (id(document_ast), hash(tuple(rules or ())))
        cached = self._validated.get(key)
        if cached is not None and cached[0] is document_ast:
            self._validated.move_to_end(key)
            return cached[1]
        errors = validate(schema, document_ast, rules=rules, max_errors=max_errors)
        self._remember(self._validated, key, (document_ast, errors))
        return errors
