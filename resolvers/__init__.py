"""Ariadne bindables, one module per domain, and the per-request dataloaders."""

from typing import Any

from resolvers import analysis, catalog, catalog_mutations, collections, realtime, users
from resolvers.scalars import datetime_scalar


def bindables() -> list[Any]:
    """Everything `make_executable_schema` binds."""
    return [
        datetime_scalar,
        *catalog.bindables,
        *catalog_mutations.bindables,
        *collections.bindables,
        *users.bindables,
        *realtime.bindables,
        *analysis.bindables,
    ]
