"""schemathesis hooks for tests/test_fuzz.py: put control characters into generated text.

schemathesis draws arbitrary Unicode, but a bounded run rarely hits the few characters
that matter here (U+0001 killed FalkorDB 4.22). These hooks insert one, chosen in turn
from `CONTROLS`, into two thirds of the generated strings, and U+0001 as well into two
thirds of those: JSON bodies, query strings and path parameters for the REST run, string
literals of the document's syntax tree for the GraphQL run (printed escaped, as the
GraphQL grammar wants). The other third stay as drawn, so that valid requests still
reach the writes. Without the control-character checks, the run kills FalkorDB.
"""

import itertools
import random
from datetime import UTC
from typing import Any

import graphql
import schemathesis
from hypothesis import strategies as st
from schemathesis.graphql import nodes

CONTROLS = (
    "\x01",
    "\x00",
    "\x02",
    "\x08",
    "\x0b",
    "\x1b",
    "\x1f",
    "\x7f",
    "\x85",
    "\x9f",
    "\t\n\r",
)
_next_control = itertools.cycle(CONTROLS)
_random = random.Random(11)


def _spiked(text: str) -> str:
    if _random.random() < 1 / 3:
        return text
    at = _random.randint(0, len(text))
    text = text[:at] + next(_next_control) + text[at:]
    if _random.random() < 2 / 3:  # the character that killed FalkorDB 4.22, more often
        at = _random.randint(0, len(text))
        text = text[:at] + "\x01" + text[at:]
    return text


def _spike(value: Any) -> Any:
    if isinstance(value, str):
        return _spiked(value)
    if isinstance(value, dict):
        return {key: _spike(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_spike(item) for item in value]
    return value


class _SpikeStrings(graphql.language.Visitor):
    def enter_string_value(self, node: graphql.StringValueNode, *_: Any) -> Any:
        return graphql.StringValueNode(value=_spiked(node.value))


@schemathesis.hook
def map_body(context: schemathesis.HookContext, body: Any) -> Any:
    # A GraphQL case's body is the document's syntax tree; a REST one, the JSON value.
    if isinstance(body, graphql.DocumentNode):
        return graphql.visit(body, _SpikeStrings())
    return _spike(body)


@schemathesis.hook
def map_query(context: schemathesis.HookContext, query: Any) -> Any:
    return _spike(query)


@schemathesis.hook
def map_path_parameters(context: schemathesis.HookContext, path_parameters: Any) -> Any:
    return _spike(path_parameters)


# Our custom scalars. An Upload cannot travel in a JSON document: null stands for it.
schemathesis.graphql.scalar(
    "DateTime", st.datetimes(timezones=st.just(UTC)).map(lambda d: nodes.String(d.isoformat()))
)
schemathesis.graphql.scalar("JSON", st.text(max_size=20).map(nodes.String))
schemathesis.graphql.scalar("Upload", st.just(nodes.Null))


@schemathesis.check
def no_server_error(ctx: Any, response: Any, case: Any) -> None:
    """No 5xx, and no GraphQL error coded INTERNAL (schemathesis' own check counts every
    GraphQL error, refusals of bad input included, as a server error)."""
    assert response.status_code < 500, f"HTTP {response.status_code}"
    try:
        payload = response.json()
    except ValueError:
        return
    errors = payload.get("errors") if isinstance(payload, dict) else None
    codes = [e.get("extensions", {}).get("code") for e in errors or [] if isinstance(e, dict)]
    assert "INTERNAL" not in codes, f"INTERNAL error: {errors}"
