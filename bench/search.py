"""Search benchmark (`make bench-search`): latency of the property search, first page, at
the database and through the HTTP API on daphne, and the list endpoint's throughput
relative to a plain Django JSON view on the same server.

    .venv/bin/python -m bench.search [--queries 300] [--concurrency 16] [--duration 10]

Shapes (each a few hundred varied queries, the same ones at both levels):
  a  city + dates + guests
  b  radius + dates + price range
  c  dates only (no city)

"At the database" is the first page fetched exactly as the API fetches it
(``properties.search.SearchResults(params, columns)[0:21]``: the compiled query of the
search's shape bound to its values, run, its rows converted), timed in this process. Through the
API is the same query string on ``GET /api/v1/properties/`` over a keep-alive connection,
one request at a time (latency), or N connections at once (throughput).
"""

import argparse
import asyncio
import os
import random
import sys
import time
from datetime import timedelta
from urllib.parse import urlencode

from bench import common
from bench.common import log
from bench.http_client import Connection
from bench.measure import (
    CpuMeter,
    format_summary,
    load_line,
    machine_line,
    postgres_line,
    summary_ms,
    wait_for_quiet,
)
from bench.servers import start_daphne

SHAPES = {
    "a": "city + dates + guests",
    "b": "radius + dates + price range",
    "c": "dates only, no city",
}
DB_TARGETS = {"a": 25.0, "c": 250.0}
API_TARGETS = {"a": 100.0, "c": 250.0}
RATIO_TARGET = 0.25
QUERY_SEED = 7
PAGE_SIZE = 20


def make_queries(cities: list[dict], per_shape: int) -> dict[str, list[dict]]:
    """Query strings (as the API receives them) for each shape; a fixed seed."""
    from django.utils import timezone

    from bench.dataset_rows import NIGHTS, weighted

    rng = random.Random(QUERY_SEED)
    today = timezone.now().date()
    shares = [c["share"] for c in cities]

    def dates() -> dict:
        check_in = today + timedelta(days=rng.randint(1, 300))
        check_out = check_in + timedelta(days=weighted(rng, NIGHTS))
        return {"check_in": check_in.isoformat(), "check_out": check_out.isoformat()}

    def guests() -> int:
        return weighted(rng, [(1, 15), (2, 40), (3, 10), (4, 20), (5, 5), (6, 10)])

    queries: dict[str, list[dict]] = {"a": [], "b": [], "c": []}
    for _ in range(per_shape):
        city = rng.choices(cities, weights=shares)[0]
        queries["a"].append({"city": city["name"], **dates(), "guests": guests()})

        city = rng.choices(cities, weights=shares)[0]
        low = round(city["price"] * rng.uniform(0.3, 0.9))
        queries["b"].append(
            {
                "lat": f"{city['lat'] + rng.uniform(-0.03, 0.03):.5f}",
                "lng": f"{city['lng'] + rng.uniform(-0.03, 0.03):.5f}",
                "radius_km": rng.choice([2, 5, 5, 10, 10, 20]),
                **dates(),
                "min_price": low,
                "max_price": low + rng.choice([50, 100, 150, 300]),
            }
        )
        queries["c"].append(dates())
    return queries


def _validated(query: dict) -> dict:
    from properties.api.search_params import SearchParams

    serializer = SearchParams(data={k: str(v) for k, v in query.items()})
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _search(params: dict):
    """The search as the list view runs it (only the result card's columns)."""
    from properties.api.serializers import PropertyListSerializer
    from properties.search import search_properties

    return search_properties(params, columns=PropertyListSerializer.columns())


def first_page(params: dict) -> list:
    """What the list view does for page 1: the lookahead slice, cover included."""
    from properties.api.serializers import PropertyListSerializer
    from properties.search import SearchResults

    return SearchResults(params, PropertyListSerializer.columns())[0 : PAGE_SIZE + 1]


def _sql_only(params: dict) -> float:
    """The main query's SQL alone, executed and fetched through a cursor: no ORM."""
    from django.db import connection

    sql, sql_params = _search(params)[: PAGE_SIZE + 1].query.sql_with_params()
    with connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.execute(sql, sql_params)
        cursor.fetchall()
        return time.perf_counter() - started


def measure_db(queries: dict[str, list[dict]]) -> tuple[dict, dict]:
    """Per shape: (seconds, query) of the ORM page fetch, and seconds of the SQL alone."""
    from django.db import reset_queries

    results: dict[str, list[tuple[float, dict]]] = {}
    sql_only: dict[str, list[float]] = {}
    for shape, items in queries.items():
        validated = [_validated(q) for q in items]
        for params in validated[:20]:  # warm-up, not recorded
            first_page(params)
        timings, sql_timings = [], []
        empty = 0
        for query, params in zip(items, validated, strict=True):
            started = time.perf_counter()
            rows = first_page(params)
            timings.append((time.perf_counter() - started, query))
            sql_timings.append(_sql_only(params))
            empty += not rows
            reset_queries()
        results[shape] = timings
        sql_only[shape] = sql_timings
        log(f"  db {shape}: {len(items)} queries done ({empty} with no result)")
    return results, sql_only


def explain(query: dict) -> str:

    qs = _search(_validated(query))[: PAGE_SIZE + 1]
    return qs.explain(analyze=True, buffers=True)


# --- HTTP ------------------------------------------------------------------------------------


async def _latency(port: int, paths: list[str]) -> tuple[list[tuple[float, str]], list[str]]:
    conn = Connection(port)
    timings, errors = [], []
    try:
        for path in paths:
            started = time.perf_counter()
            status, body = await conn.request("GET", path)
            elapsed = time.perf_counter() - started
            if status != 200:
                errors.append(f"{status} {path}: {body[:200]!r}")
            timings.append((elapsed, path))
    finally:
        await conn.close()
    return timings, errors


async def _throughput(servers, paths: list[str], clients: int, duration: float) -> dict:
    """``clients`` connections, each sending its next request as soon as the last answers."""
    done = 0
    errors = 0
    latencies: list[float] = []
    stop_at = 0.0

    async def client(index: int) -> None:
        nonlocal done, errors
        conn = Connection(servers.port)
        i = index
        try:
            while time.perf_counter() < stop_at:
                path = paths[i % len(paths)]
                i += clients
                started = time.perf_counter()
                status, _ = await conn.request("GET", path)
                latencies.append(time.perf_counter() - started)
                done += 1
                errors += status != 200
        finally:
            await conn.close()

    # Warm-up: every connection once, so both processes have their DB connections open.
    stop_at = time.perf_counter() + 1.0
    await asyncio.gather(*(client(i) for i in range(clients)))
    done, errors, latencies[:] = 0, 0, []
    meter = CpuMeter(servers)
    started = time.perf_counter()
    stop_at = started + duration
    await asyncio.gather(*(client(i) for i in range(clients)))
    elapsed = time.perf_counter() - started
    return {
        "rps": done / elapsed,
        "n": done,
        "errors": errors,
        "latencies": latencies,
        "cpu": meter.per_request(done),
    }


def _paths(items: list[dict]) -> list[str]:
    return [f"/api/v1/properties/?{urlencode(q)}" for q in items]


# --- main --------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--properties", type=int, default=100_000)
    parser.add_argument("--bookings", type=int, default=1_000_000)
    parser.add_argument("--cities", type=int, default=200)
    parser.add_argument("--queries", type=int, default=300, help="per shape")
    parser.add_argument("--concurrency", type=int, default=16, help="clients for throughput")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per phase")
    common.add_server_options(parser)
    parser.add_argument("--no-http", action="store_true", help="database figures only")
    parser.add_argument("--reset", action="store_true", help="drop the bench database first")
    args = parser.parse_args(argv)

    env = common.bench_env(args)
    if args.reset:
        common.drop_database(env["DATABASE_URL"])
    common.ensure_database(env["DATABASE_URL"])
    common.setup_django(env, "bench.settings")
    common.migrate()
    from bench.dataset import ensure_dataset

    dataset = ensure_dataset(properties=args.properties, bookings=args.bookings, cities=args.cities)
    queries = make_queries(dataset["cities"], args.queries)

    out: list[str] = []

    def say(line: str = "") -> None:
        out.append(line)

    say("=== search benchmark")
    say(machine_line())
    say(postgres_line())
    say(
        f"data: {args.properties:,} published properties in {args.cities} cities, "
        f"{args.bookings:,} holding bookings, blocks on ~1 property in 5"
    )
    say(f"queries: {args.queries} per shape, first page ({PAGE_SIZE} rows + 1 lookahead)")
    wait_for_quiet(args.wait_quiet)
    say(f"before: {load_line()}")

    log("measuring at the database")
    db, sql_only = measure_db(queries)
    say()
    say("--- at the database (the page fetch as the API runs it: compiled shape, in-process)")
    worst_shape = max(db, key=lambda s: summary_ms([t for t, _ in db[s]])["p99"])
    for shape, timings in db.items():
        say(
            format_summary(
                f"({shape}) {SHAPES[shape]}", [t for t, _ in timings], DB_TARGETS.get(shape)
            )
        )

    say()
    say("--- the main query's SQL alone (cursor.execute + fetchall, no ORM; same queries)")
    for shape, timings in sql_only.items():
        say(format_summary(f"({shape}) {SHAPES[shape]}", timings))

    api: dict[str, list] = {}
    throughput: dict[str, dict] = {}
    api_errors: list[str] = []
    if not args.no_http:
        servers = start_daphne(env, "bench.settings", args.processes)
        try:
            for shape, items in queries.items():
                log(f"  api {shape}: {len(items)} requests, one at a time")
                paths = _paths(items)
                asyncio.run(_latency(servers.port, paths[:20]))  # warm-up
                timings, errors = asyncio.run(_latency(servers.port, paths))
                api[shape] = timings
                api_errors += errors
            phases = [("plain", ["/bench/plain/"])]
            phases += [(shape, _paths(items)) for shape, items in queries.items()]
            phases += [("plain (again)", ["/bench/plain/"])]
            for name, paths in phases:
                log(f"  throughput {name}: {args.concurrency} clients for {args.duration:g} s")
                throughput[name] = asyncio.run(
                    _throughput(servers, paths, args.concurrency, args.duration)
                )
        finally:
            servers.stop()
            log("daphne stopped")
        say()
        say(
            f"--- through the API (daphne x{args.processes}, production settings, "
            f"{common.connection_line(env)}; one request at a time)"
        )
        for shape, timings in api.items():
            say(
                format_summary(
                    f"({shape}) {SHAPES[shape]}", [t for t, _ in timings], API_TARGETS.get(shape)
                )
            )
        if api_errors:
            say(f"non-200 answers: {len(api_errors)}; first: {api_errors[0]}")
        plain = (throughput["plain"]["rps"] + throughput["plain (again)"]["rps"]) / 2
        say()
        say(
            f"--- throughput, {args.concurrency} concurrent keep-alive clients, "
            f"{args.duration:g} s per phase"
        )
        for name, result in throughput.items():
            label = "plain JSON view" if name.startswith("plain") else f"({name}) {SHAPES[name]}"
            line = f"{label:<36} {result['rps']:8.1f} req/s  ({result['n']} requests"
            line += f", {result['errors']} non-200)" if result["errors"] else ")"
            if not name.startswith("plain"):
                ratio = result["rps"] / plain
                verdict = "MET" if ratio >= RATIO_TARGET else "MISSED"
                line += f"  ratio {ratio:6.1%}  target >= {RATIO_TARGET:.0%}: {verdict}"
            say(line)
            s = summary_ms(result["latencies"])
            say(f"{'':<36} under load: p50={s['p50']:.1f} ms  p99={s['p99']:.1f} ms")
            say(f"{'':<36} {result['cpu']}")

    say()
    say(f"after: {load_line()}")
    slowest = max(db[worst_shape], key=lambda pair: pair[0])
    say()
    say(
        f"--- EXPLAIN (ANALYZE, BUFFERS) of the slowest shape at the database: ({worst_shape}) "
        f"{SHAPES[worst_shape]}, its slowest query ({slowest[0] * 1000:.1f} ms): "
        f"{urlencode(slowest[1])}"
    )
    say(explain(slowest[1]))
    common.flush_bench_redis(env["REDIS_URL"])
    print()
    print("\n".join(out), flush=True)
    return 0


if __name__ == "__main__":
    os.chdir(common.ROOT)
    sys.exit(main())
