"""The Subsonic response envelope, in JSON (`f=json`, `f=jsonp`) or XML (the default).

Payloads are built once as plain dicts in the JSON shape; XML is derived from them: a
dict is an element, its scalar values attributes, its dict values child elements and its
list values repeated child elements of that name (Subsonic's own mapping).
"""

from typing import Any
from xml.etree import ElementTree

import orjson
from starlette.responses import Response

API_VERSION = "1.16.1"
SERVER_VERSION = "0.1.0"
XMLNS = "http://subsonic.org/restapi"

# Subsonic's error codes.
GENERIC = 0
MISSING_PARAMETER = 10
CLIENT_TOO_OLD = 20
WRONG_CREDENTIALS = 40
TOKEN_AUTH_NOT_SUPPORTED = 41
AUTH_MECHANISM_NOT_SUPPORTED = 42
CONFLICTING_AUTH = 43
INVALID_API_KEY = 44
NOT_AUTHORIZED = 50
NOT_FOUND = 70

# Our stable GraphQL codes, as Subsonic's.
FROM_GRAPHQL_CODE = {
    "UNAUTHENTICATED": WRONG_CREDENTIALS,
    "FORBIDDEN": NOT_AUTHORIZED,
    "NOT_FOUND": NOT_FOUND,
    "NO_PATH": NOT_FOUND,
    "VALIDATION_ERROR": MISSING_PARAMETER,
    "UNSUPPORTED_FORMAT": GENERIC,
    "RATE_LIMITED": GENERIC,
    "MAINTENANCE": GENERIC,
}


class SubsonicError(Exception):
    """A failure with a Subsonic error code and a message safe to show."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def envelope(status: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "subsonic-response": {
            "status": status,
            "version": API_VERSION,
            "type": "apollonia",
            "serverVersion": SERVER_VERSION,
            "openSubsonic": True,
            **(payload or {}),
        }
    }


def _xml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _to_xml(parent: ElementTree.Element, name: str, value: dict[str, Any]) -> None:
    element = ElementTree.SubElement(parent, name)
    _fill(element, value)


def _fill(element: ElementTree.Element, value: dict[str, Any]) -> None:
    for key, item in value.items():
        if item is None:
            continue
        if key == "value" and not isinstance(item, dict | list):
            element.text = _xml_value(item)
        elif isinstance(item, dict):
            _to_xml(element, key, item)
        elif isinstance(item, list):
            for entry in item:
                if isinstance(entry, dict):
                    _to_xml(element, key, entry)
                else:
                    ElementTree.SubElement(element, key).text = _xml_value(entry)
        else:
            element.set(key, _xml_value(item))


def render(body: dict[str, Any], fmt: str, callback: str | None = None) -> Response:
    """The envelope as JSON, JSONP or XML. Subsonic answers errors with HTTP 200 too."""
    if fmt == "json":
        return Response(orjson.dumps(body), media_type="application/json")
    if fmt == "jsonp" and callback and callback.replace("_", "").replace(".", "").isalnum():
        text = f"{callback}({orjson.dumps(body).decode()});"
        return Response(text, media_type="application/javascript")
    root = ElementTree.Element("subsonic-response", xmlns=XMLNS)
    _fill(root, body["subsonic-response"])
    xml = b'<?xml version="1.0" encoding="UTF-8"?>' + ElementTree.tostring(root)
    return Response(xml, media_type="application/xml")


def ok(payload: dict[str, Any] | None, fmt: str, callback: str | None = None) -> Response:
    return render(envelope("ok", payload), fmt, callback)


def failed(error: SubsonicError, fmt: str, callback: str | None = None) -> Response:
    body = envelope("failed", {"error": {"code": error.code, "message": error.message}})
    return render(body, fmt, callback)
