"""Per-request dataloaders: each batch becomes one Cypher query (`UNWIND $ids`).

Named `<Entity>By<Key>Loader`. Results line up with keys: None (or an empty list)
for a key that has nothing. Composite keys are named tuples.
"""

from collections.abc import Awaitable, Callable, Sequence
from functools import cached_property
from typing import Any, NamedTuple

from aiodataloader import DataLoader

from graph import analysis, catalog, metadata, users
from graph import collection_store as graph_collections
from graph.collection_store import ANONYMOUS_VIEWER, Viewer
from graph.engine import GraphEngine
from resolvers.permissions import Principal

MAX_BATCH = 1000

AnyLoader = DataLoader[Any, Any]


class PageKey(NamedTuple):
    """A page of a parent's children: parent id, keyset position, rows wanted (+1)."""

    parent: str
    after: tuple[Any, ...] | None
    limit: int


class _GraphLoader(DataLoader[Any, Any]):
    max_batch_size = MAX_BATCH
    fetch: Callable[[GraphEngine, Sequence[Any]], Awaitable[list[Any]]]

    def __init__(self, engine: GraphEngine) -> None:
        super().__init__()
        self.engine = engine

    async def batch_load_fn(self, keys: Sequence[Any]) -> list[Any]:
        return await type(self).fetch(self.engine, keys)


def _loader(
    name: str, fetch: Callable[[GraphEngine, Sequence[Any]], Awaitable[list[Any]]]
) -> type[_GraphLoader]:
    return type(name, (_GraphLoader,), {"fetch": staticmethod(fetch)})


TrackByIdLoader = _loader("TrackByIdLoader", catalog.tracks_by_id)
ArtistByIdLoader = _loader("ArtistByIdLoader", catalog.artists_by_id)
AlbumByIdLoader = _loader("AlbumByIdLoader", catalog.albums_by_id)
GenreByIdLoader = _loader("GenreByIdLoader", catalog.genres_by_id)
ArtistsByTrackIdLoader = _loader("ArtistsByTrackIdLoader", catalog.artists_by_track)
AlbumByTrackIdLoader = _loader("AlbumByTrackIdLoader", catalog.album_by_track)
GenresByTrackIdLoader = _loader("GenresByTrackIdLoader", catalog.genres_by_track)
ArtistByAlbumIdLoader = _loader("ArtistByAlbumIdLoader", catalog.artist_by_album)
MetadataByTrackIdLoader = _loader("MetadataByTrackIdLoader", metadata.metadata_by_track)


def _page_loader(name: str, relation: str) -> type[_GraphLoader]:
    async def fetch(engine: GraphEngine, keys: Sequence[PageKey]) -> list[Any]:
        return await catalog.nested_pages(
            engine,
            relation,
            [(k.parent, list(k.after) if k.after else None, k.limit) for k in keys],
        )

    return _loader(name, fetch)


def _count_loader(name: str, relation: str) -> type[_GraphLoader]:
    async def fetch(engine: GraphEngine, keys: Sequence[str]) -> list[Any]:
        return await catalog.nested_counts(engine, relation, keys)

    return _loader(name, fetch)


TracksByArtistIdLoader = _page_loader("TracksByArtistIdLoader", "tracks_by_artist")
AlbumsByArtistIdLoader = _page_loader("AlbumsByArtistIdLoader", "albums_by_artist")
TracksByAlbumIdLoader = _page_loader("TracksByAlbumIdLoader", "tracks_by_album")
TrackCountByArtistIdLoader = _count_loader("TrackCountByArtistIdLoader", "tracks_by_artist")
AlbumCountByArtistIdLoader = _count_loader("AlbumCountByArtistIdLoader", "albums_by_artist")
TrackCountByAlbumIdLoader = _count_loader("TrackCountByAlbumIdLoader", "tracks_by_album")

UserByIdLoader = _loader("UserByIdLoader", users.users_by_id)
TrackCountByCollectionIdLoader = _loader(
    "TrackCountByCollectionIdLoader", graph_collections.track_counts
)


async def _collection_track_pages(engine: GraphEngine, keys: Sequence[PageKey]) -> list[Any]:
    return await graph_collections.track_pages(
        engine, [(k.parent, list(k.after) if k.after else None, k.limit) for k in keys]
    )


TracksByCollectionIdLoader = _loader("TracksByCollectionIdLoader", _collection_track_pages)


class EmbeddingKey(NamedTuple):
    track_id: str
    type: str


class SimilarKey(NamedTuple):
    track_id: str
    first: int
    min_score: float


async def _similar(engine: GraphEngine, keys: Sequence[SimilarKey]) -> list[Any]:
    """One query per distinct (first, min_score) in the batch (usually one)."""
    found: dict[SimilarKey, Any] = {}
    groups: dict[tuple[int, float], list[str]] = {}
    for key in keys:
        groups.setdefault((key.first, key.min_score), []).append(key.track_id)
    for (first, min_score), ids in groups.items():
        lists = await analysis.similar_tracks(engine, ids, first, min_score)
        found |= {SimilarKey(i, first, min_score): v for i, v in zip(ids, lists, strict=True)}
    return [found[key] for key in keys]


AnalysisByTrackIdLoader = _loader("AnalysisByTrackIdLoader", analysis.analysis_by_track)
EmbeddingByTrackLoader = _loader("EmbeddingByTrackLoader", analysis.embeddings_by_track)
SimilarByTrackLoader = _loader("SimilarByTrackLoader", _similar)


def viewer_of(principal: Principal | None) -> Viewer:
    """Who reads, as the collection queries need it (None: anonymous)."""
    if principal is None:
        return ANONYMOUS_VIEWER
    return Viewer(principal.user_id, principal.is_admin)


class _ViewerLoader(DataLoader[Any, Any]):
    """A loader whose answers depend on who asks: one instance per viewer."""

    max_batch_size = MAX_BATCH
    fetch: Callable[[GraphEngine, Viewer, Sequence[Any]], Awaitable[list[Any]]]

    def __init__(self, engine: GraphEngine, viewer: Viewer) -> None:
        super().__init__()
        self.engine = engine
        self.viewer = viewer

    async def batch_load_fn(self, keys: Sequence[Any]) -> list[Any]:
        return await type(self).fetch(self.engine, self.viewer, keys)


def _viewer_loader(
    name: str, fetch: Callable[[GraphEngine, Viewer, Sequence[Any]], Awaitable[list[Any]]]
) -> type[_ViewerLoader]:
    return type(name, (_ViewerLoader,), {"fetch": staticmethod(fetch)})


CollectionByIdLoader = _viewer_loader("CollectionByIdLoader", graph_collections.collections_by_id)
CollectionsByTrackIdLoader = _viewer_loader(
    "CollectionsByTrackIdLoader", graph_collections.collections_by_track
)


_BY_ID = {
    "Track": "track_by_id",
    "Artist": "artist_by_id",
    "Album": "album_by_id",
    "Genre": "genre_by_id",
}


class Loaders:
    """The loaders of one request, each created on first use."""

    def __init__(self, engine: GraphEngine) -> None:
        self.engine = engine

    @cached_property
    def track_by_id(self) -> AnyLoader:
        return TrackByIdLoader(self.engine)

    @cached_property
    def artist_by_id(self) -> AnyLoader:
        return ArtistByIdLoader(self.engine)

    @cached_property
    def album_by_id(self) -> AnyLoader:
        return AlbumByIdLoader(self.engine)

    @cached_property
    def genre_by_id(self) -> AnyLoader:
        return GenreByIdLoader(self.engine)

    @cached_property
    def artists_by_track_id(self) -> AnyLoader:
        return ArtistsByTrackIdLoader(self.engine)

    @cached_property
    def album_by_track_id(self) -> AnyLoader:
        return AlbumByTrackIdLoader(self.engine)

    @cached_property
    def genres_by_track_id(self) -> AnyLoader:
        return GenresByTrackIdLoader(self.engine)

    @cached_property
    def artist_by_album_id(self) -> AnyLoader:
        return ArtistByAlbumIdLoader(self.engine)

    @cached_property
    def tracks_by_artist_id(self) -> AnyLoader:
        return TracksByArtistIdLoader(self.engine)

    @cached_property
    def albums_by_artist_id(self) -> AnyLoader:
        return AlbumsByArtistIdLoader(self.engine)

    @cached_property
    def tracks_by_album_id(self) -> AnyLoader:
        return TracksByAlbumIdLoader(self.engine)

    @cached_property
    def track_count_by_artist_id(self) -> AnyLoader:
        return TrackCountByArtistIdLoader(self.engine)

    @cached_property
    def album_count_by_artist_id(self) -> AnyLoader:
        return AlbumCountByArtistIdLoader(self.engine)

    @cached_property
    def track_count_by_album_id(self) -> AnyLoader:
        return TrackCountByAlbumIdLoader(self.engine)

    @cached_property
    def user_by_id(self) -> AnyLoader:
        return UserByIdLoader(self.engine)

    @cached_property
    def tracks_by_collection_id(self) -> AnyLoader:
        return TracksByCollectionIdLoader(self.engine)

    @cached_property
    def track_count_by_collection_id(self) -> AnyLoader:
        return TrackCountByCollectionIdLoader(self.engine)

    @cached_property
    def analysis_by_track_id(self) -> AnyLoader:
        """`{features, status}` by track id."""
        return AnalysisByTrackIdLoader(self.engine)

    @cached_property
    def embedding_by_track(self) -> AnyLoader:
        """Vectors by EmbeddingKey."""
        return EmbeddingByTrackLoader(self.engine)

    @cached_property
    def metadata_by_track_id(self) -> AnyLoader:
        """A track's metadata entries by track id."""
        return MetadataByTrackIdLoader(self.engine)

    @cached_property
    def similar_by_track(self) -> AnyLoader:
        """Similar tracks with reasons by SimilarKey."""
        return SimilarByTrackLoader(self.engine)

    @cached_property
    def _by_viewer(self) -> dict[tuple[type[_ViewerLoader], Viewer], AnyLoader]:
        return {}

    def _for_viewer(self, kind: type[_ViewerLoader], viewer: Viewer) -> AnyLoader:
        loader = self._by_viewer.get((kind, viewer))
        if loader is None:
            loader = self._by_viewer[(kind, viewer)] = kind(self.engine, viewer)
        return loader

    def collection_by_id(self, viewer: Viewer) -> AnyLoader:
        """Collections by id, as `viewer` may see them (None for the others)."""
        return self._for_viewer(CollectionByIdLoader, viewer)

    def collections_by_track_id(self, viewer: Viewer) -> AnyLoader:
        """For each track id, the collections holding it that `viewer` may see."""
        return self._for_viewer(CollectionsByTrackIdLoader, viewer)

    def by_label(self, label: str, principal: Principal | None = None) -> AnyLoader:
        """The by-id loader of a node label. Collections are read as `principal` may
        see them: public ones only when no principal is given."""
        if label == "Collection":
            return self.collection_by_id(viewer_of(principal))
        # Only the one asked for is created (a dict of all four built all four).
        loader: AnyLoader = getattr(self, _BY_ID[label])
        return loader

    def prime(self, label: str, row: dict[str, Any]) -> None:
        """Put a row just written into the by-id cache (after a mutation)."""
        loader = self.by_label(label)
        loader.clear(row["id"]).prime(row["id"], row)
