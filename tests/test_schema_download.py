"""`GET /graphql/schema.graphql`: the SDL, as a download, where introspection is allowed."""

import dataclasses

import httpx
from graphql import build_schema

from graph.engine import GraphEngine
from schema import load_sdl
from server.settings import Settings
from tests.support import LiveServer


async def test_the_sdl_is_downloadable(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql/schema.graphql")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert response.headers["content-disposition"] == 'attachment; filename="schema.graphql"'
    assert response.text == load_sdl()
    schema = build_schema(response.text)
    assert schema.query_type is not None and "tracks" in schema.query_type.fields
    assert schema.subscription_type is not None


async def test_hidden_where_introspection_is_off(engine: GraphEngine, settings: Settings) -> None:
    server = LiveServer(engine, dataclasses.replace(settings, introspection=False))
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=server.url) as http:
            assert (await http.get("/graphql/schema.graphql")).status_code == 404
    finally:
        await server.stop()
