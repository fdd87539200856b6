"""Checks on query parameters that hold on every engine."""

import re

from graph.engine import Params
from music.errors import ValidationError
from music.text import contains

NUL = re.compile("\x00")
NUL_MESSAGE = "Text must not contain NUL characters."


def refuse_nul(params: Params | None) -> None:
    """Refuse text holding a NUL character as the client's error, on every engine (reads;
    writes refuse every control character, music/text.py).

    FalkorDB's client sends parameters inside the command text, where a NUL ends it
    (FalkorDB then answers "empty key"); Neo4j would store it. One rule for both keeps
    the API the same whichever engine serves it.
    """
    if params and contains(params, NUL):
        raise ValidationError(NUL_MESSAGE)


def refuse_nul_in(command_text: str) -> None:
    """`refuse_nul` for an engine that writes the parameters into the command's text
    (FalkorDB): one scan of that text, not a walk over the parameters. The query text
    itself is ours and holds no NUL."""
    if "\x00" in command_text:
        raise ValidationError(NUL_MESSAGE)
