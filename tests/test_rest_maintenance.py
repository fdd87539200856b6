"""Maintenance mode: writes refused everywhere (REST 503, GraphQL MAINTENANCE), reads
served, and the flag shared by every API process through Redis."""

import httpx

from graph.engine import GraphEngine
from server.settings import Settings
from tests.support import GraphQLClient, LiveServer, user_token

V1 = "/api/v1"
CREATE = 'mutation { createTrack(input: {title: "x"}) { id } }'


async def test_maintenance_mode(
    client: httpx.AsyncClient, gql: GraphQLClient, engine: GraphEngine, settings: Settings
) -> None:
    _, token = await user_token(engine, settings, "admin")
    admin = {"authorization": f"Bearer {token}"}
    _, user_token_ = await user_token(engine, settings, "user")
    user = {"authorization": f"Bearer {user_token_}"}
    refused = await client.post(f"{V1}/admin/maintenance", json={"enabled": True}, headers=user)
    assert refused.status_code == 403
    on = await client.post(
        f"{V1}/admin/maintenance",
        json={"enabled": True, "message": "Upgrading the graph."},
        headers=admin,
    )
    assert on.status_code == 200 and on.json()["enabled"] is True
    assert (await client.get(f"{V1}/admin/maintenance")).json()["message"] == "Upgrading the graph."

    write = await client.post(f"{V1}/tracks", json={"title": "x"}, headers=user)
    assert write.status_code == 503
    assert write.json()["error"] == {
        **write.json()["error"],
        "code": "MAINTENANCE",
        "message": "Upgrading the graph.",
    }
    assert (await gql.error(CREATE))["extensions"]["code"] == "MAINTENANCE"
    assert (await client.get(f"{V1}/tracks")).status_code == 200
    assert (await client.put(f"{V1}/settings", json={}, headers=user)).status_code == 503

    # Another API process on the same graph and Redis sees the flag.
    other = LiveServer(engine, settings)
    await other.start()
    try:
        async with httpx.AsyncClient(base_url=other.url) as second:
            elsewhere = await second.post(f"{V1}/tracks", json={"title": "x"}, headers=user)
            assert elsewhere.status_code == 503
    finally:
        await other.stop()

    off = await client.post(f"{V1}/admin/maintenance", json={"enabled": False}, headers=admin)
    assert off.json() == {"enabled": False, "message": None, "since": None}
    assert (await client.post(f"{V1}/tracks", json={"title": "x"}, headers=user)).status_code == 201
    status = await client.get(f"{V1}/admin/system/status", headers=admin)
    assert status.json()["maintenance"]["enabled"] is False
