"""The list of collections at scale: windows of the name's sort key (graph/pages.py,
what `collections` serves) beside the former query, which sorted every listed
collection (`ORDER BY name_key, id LIMIT`), on one embedded database per size of N
collections (half of them public, 200 owners), walked 6 pages deep by one owner.

    .venv/bin/python bench/collections_list.py --sizes 1000,20000

Prints the median ms per 50-collection page of each (30 pages each, after a warm-up
walk), and whether both give the same first page.
"""

import argparse
import asyncio
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._server import scratch_database
from graph import collection_store, ids, sort_keys, users
from graph.engine.falkordb import FalkorDBEngine
from graph.migrations import migrate
from graph.names import name_key
from graph.queries import collections as q

OWNERS = 200
PAGES = 6
WALKS = 5
FORMER_QUERY = (
    "MATCH (c:Collection)<-[:OWNS]-(o:User) WHERE (c.public OR o.id = $viewer) "
    "AND ($after_key IS NULL OR [c.name_key, c.id] > [$after_key, $after_id]) "
    f"WITH c, o ORDER BY c.name_key, c.id LIMIT $limit RETURN {q.COLLECTION_ROW} AS row, "
    "c.name_key AS sort_key"
)
LOAD_QUERY = (
    "UNWIND $rows AS r MATCH (o:User {id: r.owner}) "
    "CREATE (o)-[:OWNS]->(:Collection {id: r.id, name: r.name, name_key: r.name_key, "
    "name_sort: r.name_sort, sk_name: r.sk_name, public: r.public, created_at: 0, "
    "updated_at: 0, span: 0})"
)
WORDS = ("amber", "blue", "cedar", "delta", "ember", "frost", "gale", "harbor", "iris")


def _collections(n: int, owners: list[str]) -> list[dict[str, Any]]:
    rnd = random.Random(5)
    rows = []
    for i in range(n):
        name = f"{rnd.choice(WORDS)} {rnd.choice(WORDS)} {i}"
        keys = sort_keys.name_keys(name)
        rows.append(
            {
                "owner": owners[i % len(owners)],
                "id": ids.new_id("Collection"),
                "name": name,
                "name_key": name_key(name),
                "name_sort": keys["sort"],
                "sk_name": keys["sk"],
                "public": i % 2 == 0,
            }
        )
    return rows


async def main(n: int) -> None:
    with scratch_database("collections-list") as (_, db):
        engine = FalkorDBEngine.from_socket(db.socket_path, "bench")
        await migrate(engine)
        owners = [
            (await users.create_user(engine, f"u{i}@example.org", f"user{i}", "-", "user"))["id"]
            for i in range(OWNERS)
        ]
        rows = _collections(n, owners)
        for start in range(0, n, 2000):
            await engine.write("load", LOAD_QUERY, {"rows": rows[start : start + 2000]})
        viewer = collection_store.Viewer(owners[1], False)

        async def windows() -> list[float]:
            times: list[float] = []
            after = None
            for _ in range(PAGES):
                started = time.perf_counter()
                _, keys = await collection_store.collections_page(engine, viewer, after, 51)
                times.append((time.perf_counter() - started) * 1e3)
                after = keys[49]
            return times

        async def former() -> list[float]:
            times: list[float] = []
            after: tuple[Any, Any] = (None, None)
            for _ in range(PAGES):
                started = time.perf_counter()
                params = {"viewer": viewer.user_id, "after_key": after[0], "after_id": after[1]}
                found = await engine.read("former", FORMER_QUERY, params | {"limit": 51})
                times.append((time.perf_counter() - started) * 1e3)
                after = (found[49]["sort_key"], found[49]["row"]["id"])
            return times

        new: list[float] = []
        old: list[float] = []
        await windows()
        await former()
        for _ in range(WALKS):
            new += await windows()
            old += await former()
        first, _ = await collection_store.collections_page(engine, viewer, None, 51)
        params = {"viewer": viewer.user_id, "after_key": None, "after_id": None, "limit": 51}
        before = await engine.read("former", FORMER_QUERY, params)
        same = [r["id"] for r in first] == [r["row"]["id"] for r in before]
        print(
            f"{n:>8,} collections: windows {statistics.median(new):7.2f} ms, former query "
            f"{statistics.median(old):7.2f} ms per 50-collection page (medians of "
            f"{len(new)} pages); same first page: {same}",
            flush=True,
        )
        await engine.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,20000", help="collections, comma-separated")
    for size in map(int, parser.parse_args().sizes.split(",")):
        asyncio.run(main(size))
