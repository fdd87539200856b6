"""Track.streamUrl, the Subsonic password opt-in, and stars and ratings."""

from typing import Any

from ariadne import MutationType, ObjectType, QueryType

from graph import annotations, subsonic
from music.errors import ValidationError
from resolvers.context import Info
from resolvers.server_key import encrypt, signed_artwork_url, signed_stream_url

MAX_BIT_RATE = 320

track = ObjectType("Track")
album = ObjectType("Album")
query = QueryType()
mutation = MutationType()
starred = ObjectType("Starred")


@track.field("streamUrl")
def resolve_stream_url(
    obj: dict[str, Any], info: Info, format: str = "ORIGINAL", max_bit_rate: int | None = None
) -> str | None:
    if max_bit_rate is not None and not 32 <= max_bit_rate <= MAX_BIT_RATE:
        raise ValidationError("maxBitRate is 32 to 320 (kbit/s).", field="maxBitRate")
    if not obj.get("file_size"):
        return None  # a catalogue entry without audio
    transcode = format.lower() if format != "ORIGINAL" else None
    return signed_stream_url(
        info.context.settings, obj["id"], format=transcode, maxBitRate=max_bit_rate
    )


def resolve_cover_url(obj: dict[str, Any], info: Info, size: int | None = None) -> str:
    if size is not None and not 16 <= size <= 2048:
        raise ValidationError("size is 16 to 2048 pixels.", field="size")
    return signed_artwork_url(info.context.settings, obj["id"], size=size)


track.set_field("coverUrl", resolve_cover_url)
album.set_field("coverUrl", resolve_cover_url)


@mutation.field("setSubsonicPassword")
async def resolve_set_subsonic_password(_: Any, info: Info, password: str | None) -> bool:
    user_id = info.context.principal.require_user()
    if password is not None and not 8 <= len(password) <= 128:
        raise ValidationError("A Subsonic password has 8 to 128 characters.", field="password")
    secret = encrypt(info.context.settings, password) if password is not None else None
    return await subsonic.set_subsonic_password(info.context.engine, user_id, secret)


@query.field("starred")
def resolve_starred(_: Any, info: Info) -> dict[str, Any]:
    return {"user_id": info.context.principal.require_user()}


def _starred_field(label: str, loader_name: str) -> Any:
    async def resolve(obj: dict[str, Any], info: Info) -> list[Any]:
        ids = await annotations.starred(info.context.engine, obj["user_id"], label)
        loader = getattr(info.context.loaders, loader_name)
        return [row for row in await loader.load_many(ids) if row is not None]

    return resolve


starred.set_field("tracks", _starred_field("Track", "track_by_id"))
starred.set_field("albums", _starred_field("Album", "album_by_id"))
starred.set_field("artists", _starred_field("Artist", "artist_by_id"))


@mutation.field("star")
async def resolve_star(_: Any, info: Info, ids: list[str]) -> bool:
    user_id = info.context.principal.require_user()
    await annotations.star(info.context.engine, user_id, ids)
    return True


@mutation.field("unstar")
async def resolve_unstar(_: Any, info: Info, ids: list[str]) -> bool:
    user_id = info.context.principal.require_user()
    await annotations.unstar(info.context.engine, user_id, ids)
    return True


@mutation.field("setRating")
async def resolve_set_rating(_: Any, info: Info, id: str, rating: int) -> bool:
    user_id = info.context.principal.require_user()
    await annotations.set_rating(info.context.engine, user_id, id, rating)
    return True


bindables = [track, album, query, mutation, starred]
