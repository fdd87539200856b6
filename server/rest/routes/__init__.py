"""The REST API: route tables by tag, each route a named GraphQL document plus the mapping
of path, query and body into its variables and of its result into the REST body.

Nothing here decides anything: permissions, validation, limits and events are those of
the GraphQL fields the documents select (which is also where the OpenAPI document reads
each route's auth from). Lists answer `{items, total, limit, offset}`; a route with
`page` set walks the connection's cursors to reach `offset`. Each module holds one tag's
routes and their mappers side by side; server/rest/mapping.py what several share.
"""

from server.rest.mapping import Route
from server.rest.routes.admin import ADMIN_ROUTES
from server.rest.routes.analytics import ANALYTICS_ROUTES
from server.rest.routes.audio_features import FEATURE_ROUTES
from server.rest.routes.auth import AUTH_ROUTES
from server.rest.routes.catalogue import CATALOGUE_ROUTES
from server.rest.routes.embeddings import EMBEDDING_ROUTES
from server.rest.routes.library import LIBRARY_ROUTES
from server.rest.routes.media import MEDIA_ROUTES
from server.rest.routes.metadata import METADATA_ROUTES
from server.rest.routes.predictions import PREDICTION_ROUTES
from server.rest.routes.tracks import TRACK_ROUTES
from server.rest.routes.users import USER_ROUTES

ROUTES: tuple[Route, ...] = (
    *TRACK_ROUTES,
    *FEATURE_ROUTES,
    *EMBEDDING_ROUTES,
    *METADATA_ROUTES,
    *CATALOGUE_ROUTES,
    *LIBRARY_ROUTES,
    *MEDIA_ROUTES,
    *ANALYTICS_ROUTES,
    *PREDICTION_ROUTES,
    *AUTH_ROUTES,
    *USER_ROUTES,
    *ADMIN_ROUTES,
)
