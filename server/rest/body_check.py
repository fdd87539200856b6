"""The REST request, checked against the route's own schemas before any GraphQL runs.

A missing or mistyped body field, or a query parameter the route does not take, is a
VALIDATION_ERROR that names it. Without this check the GraphQL document behind the route
would refuse the variables in its own words (`Variable '$token' of required type…`),
which name the internal document rather than the request.
"""

import re
from typing import Any

from music.errors import ValidationError

_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
    "null": (type(None),),
}


def _kinds(schema: dict[str, Any]) -> list[str]:
    kind = schema.get("type")
    if isinstance(kind, list):
        return [str(k) for k in kind]
    if isinstance(kind, str):
        return [kind]
    kinds: list[str] = []
    for option in schema.get("anyOf", []):
        kinds.extend(_kinds(option))
    return kinds


def _fits(kind: str, value: Any) -> bool:
    if isinstance(value, bool) and kind in ("integer", "number"):
        return False
    return isinstance(value, _JSON_TYPES.get(kind, (object,)))


def _check_value(name: str, schema: dict[str, Any], value: Any) -> None:
    kinds = _kinds(schema)
    if kinds and not any(_fits(k, value) for k in kinds):
        raise ValidationError(f"'{name}' must be of type {' or '.join(kinds)}.", field=name)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            raise ValidationError(f"'{name}' must be at least {schema['minimum']}.", field=name)
        if "maximum" in schema and value > schema["maximum"]:
            raise ValidationError(f"'{name}' must be at most {schema['maximum']}.", field=name)
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0):
            raise ValidationError(f"'{name}' is too short.", field=name)
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            raise ValidationError(f"'{name}' is too long.", field=name)
    if "enum" in schema and value is not None and value not in schema["enum"]:
        allowed = ", ".join(str(v) for v in schema["enum"])
        raise ValidationError(f"'{name}' must be one of {allowed}.", field=name)


def check_body(schema: dict[str, Any] | None, body: Any) -> None:
    """Refuse a JSON object body that lacks a required field or has one of the wrong
    type, naming the first such field (top-level fields only: deeper values are the
    GraphQL layer's, whose errors carry the field too)."""
    if schema is None or schema.get("type") != "object" or not isinstance(body, dict):
        return
    for name in schema.get("required", []):
        if body.get(name) is None:
            raise ValidationError(f"'{name}' is required.", field=name)
    for name, sub in schema.get("properties", {}).items():
        if name in body and isinstance(sub, dict):
            _check_value(name, sub, body[name])


def check_query_names(allowed: set[str], given: list[str]) -> None:
    """Refuse query parameters the route does not take, naming them all."""
    unknown = sorted({name for name in given if name not in allowed})
    if unknown:
        names = ", ".join(f"'{n}'" for n in unknown)
        raise ValidationError(
            f"Unknown query parameter {names}.", field=unknown[0], unknown=unknown
        )


# graphql-core's own messages about a document or its variables: what a REST client
# must never read. Matched on what they always contain.
_GRAPHQL_TEXT = re.compile(
    r"\$\w|GraphQL request|Variable '|Argument '|Expected (value|type)|non-nullable|"
    r"Cannot query field|Unknown argument|Cannot return null|got invalid value|"
    r"Int cannot represent|Float cannot represent|String cannot represent|"
    r"Boolean cannot represent|ID cannot represent|Enum '|Field '"
)
# "… has invalid value at .input.tempo: …" and "… to include required field 'tempo'".
_MISSING = re.compile(r"required field '(\w+)'")
_AT_PATH = re.compile(r"at \.(?:[A-Za-z_]\w*(?:\[\d+\])*\.)*([A-Za-z_]\w*)")
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def is_graphql_text(message: str) -> bool:
    return bool(_GRAPHQL_TEXT.search(message))


def field_in(message: str) -> str | None:
    """The input field a graphql-core variable error points at, in snake_case."""
    match = _MISSING.search(message) or _AT_PATH.search(message)
    return _CAMEL.sub("_", match.group(1)).lower() if match else None
