"""Every Subsonic method served, by name (without `.view`)."""

from server.subsonic import annotation, browsing, listening, system
from server.subsonic.app import Handler

HANDLERS: dict[str, Handler] = {
    **system.HANDLERS,
    **browsing.HANDLERS,
    **listening.HANDLERS,
    **annotation.HANDLERS,
}
