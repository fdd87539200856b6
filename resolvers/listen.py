"""Track.streamUrl and the Subsonic password opt-in."""

from typing import Any

from ariadne import MutationType, ObjectType

from graph import subsonic
from graph.errors import ValidationError
from resolvers.context import Info
from resolvers.server_key import encrypt, signed_stream_url

MAX_BIT_RATE = 320

track = ObjectType("Track")
mutation = MutationType()


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


@mutation.field("setSubsonicPassword")
async def resolve_set_subsonic_password(_: Any, info: Info, password: str | None) -> bool:
    user_id = info.context.principal.require_user()
    if password is not None and not 8 <= len(password) <= 128:
        raise ValidationError("A Subsonic password has 8 to 128 characters.", field="password")
    secret = encrypt(info.context.settings, password) if password is not None else None
    return await subsonic.set_subsonic_password(info.context.engine, user_id, secret)


bindables = [track, mutation]
