"""Seed 004's administration: the system status and maintenance mode (admins)."""

from typing import Any

from server.rest import shapes
from server.rest.mapping import (
    Call,
    Route,
    enum_schema,
    field_at,
)
from server.rest.shapes import BOOL, NUM, STR, array, nullable, obj

ADMIN_TAG = "Admin"


def system_status(data: Any, call: Call) -> dict[str, Any]:
    """The server's status with seed 004's `services`, `database` and `cache` beside our
    fields: each component as a service (`running` or `down`), the graph as the
    database and Redis as the cache (`connected` or `disconnected`)."""
    status = shapes.snake(data["serverStatus"])
    up = {c["name"]: c["up"] for c in status["components"]}
    return {
        **status,
        "services": [
            {
                "name": c["name"],
                "status": "running" if c["up"] else "down",
                "uptime": status["uptime_seconds"],
            }
            for c in status["components"]
        ],
        "database": {"status": "connected" if up.get("graph") else "disconnected"},
        "cache": {"status": "connected" if up.get("redis") else "disconnected"},
    }


SYSTEM_STATUS = obj(
    {
        "status": STR,
        "version": STR,
        "uptime_seconds": NUM,
        "components": array(obj({"name": STR, "up": BOOL, "detail": nullable("string")})),
        "services": array(
            obj({"name": STR, "status": enum_schema("running", "down"), "uptime": NUM})
        ),
        "database": obj({"status": enum_schema("connected", "disconnected")}),
        "cache": obj({"status": enum_schema("connected", "disconnected")}),
    },
    required=("status", "version", "components", "services", "database", "cache"),
)


MAINTENANCE_STATE = obj(
    {"enabled": BOOL, "message": nullable("string"), "since": nullable(shapes.DATETIME)}
)

# fmt: off
ADMIN_ROUTES: tuple[Route, ...] = (
    Route("GET", "/admin/system/status", "SystemStatus",
        f"query SystemStatus {{ serverStatus {{ status version environment uptimeSeconds "
        f"components {{ name up detail }} maintenance {{ {shapes.MAINTENANCE} }} "
        f"jobs {{ kind status count }} }} }}",
        variables=lambda c: {}, result=system_status,
        summary="Components, maintenance and jobs; seed 004's `services`, `database` and "
        "`cache`", tag=ADMIN_TAG, response=SYSTEM_STATUS,
    ),
    Route("GET", "/admin/maintenance", "GetMaintenance",
        f"query GetMaintenance {{ maintenance {{ {shapes.MAINTENANCE} }} }}",
        variables=lambda c: {},
        result=field_at("maintenance"), summary="Whether maintenance mode is on", tag=ADMIN_TAG,
        response=MAINTENANCE_STATE,
    ),
    Route("POST", "/admin/maintenance", "SetMaintenance",
        f"mutation SetMaintenance($enabled: Boolean!, $message: String) {{ maintenance("
        f"enabled: $enabled, message: $message) {{ {shapes.MAINTENANCE} }} }}",
        variables=lambda c: {"enabled": c.b("enabled"), "message": c.b("message")},
        result=field_at("maintenance"), summary="Turn maintenance mode on or off", tag=ADMIN_TAG,
        body=obj({"enabled": BOOL, "message": nullable("string")}, required=("enabled",)),
        response=MAINTENANCE_STATE,
    ),
)
# fmt: on
