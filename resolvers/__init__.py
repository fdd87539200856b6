"""Ariadne bindables, one module per domain, and the per-request dataloaders."""

from typing import Any

from resolvers import (
    admin,
    analysis,
    catalog,
    catalog_mutations,
    collections,
    exploration,
    genre,
    listen,
    listening,
    metadata,
    playqueue,
    realtime,
    search,
    users,
)
from resolvers import jobs as job_resolvers
from resolvers import media as media_resolvers
from resolvers.scalars import datetime_scalar


def bindables() -> list[Any]:
    """Everything `make_executable_schema` binds."""
    return [
        datetime_scalar,
        *catalog.bindables,
        *search.bindables,
        *catalog_mutations.bindables,
        *collections.bindables,
        *users.bindables,
        *realtime.bindables,
        *analysis.bindables,
        *exploration.bindables,
        *listening.bindables,
        *playqueue.bindables,
        *job_resolvers.bindables,
        *media_resolvers.bindables,
        *genre.bindables,
        *metadata.bindables,
        *admin.bindables,
        *listen.bindables,
    ]
