"""Storage and speed as the work grows: N members and the leftovers D days of hourly activity
leave, loaded by SQL into a fresh PostgreSQL database; table sizes and bytes per active
member before and after `atelier maintenance run`; then `/me` and refresh on that loaded
database vs an empty one, the two servers' wrk runs interleaved (medians; ratio loaded/empty).

    uv run python -m tests.bench.bench_growth                      # 1,000,000 members, 30 days
    uv run python -m tests.bench.bench_growth --members 100000 --flat-days 7,35,90

--flat-days loads --flat-members members (default members / 10) once per listed day count
and reports bytes per active member after maintenance for each: the storage bound.
--skip-speed leaves the wrk part out. Needs wrk; BENCH_SECONDS (5), BENCH_RUNS (3).
--load-jobs (2): load statements run at once, each on its own connection. The load is
set-based (one INSERT ... SELECT per table) with foreign-key triggers off and every foreign
key checked once afterwards; tables stay logged, indexes and constraints stay on.

What a day of activity leaves, per active member (--rate-* flags; see docs/performance.md):
refreshes every hour leave nothing (a refresh is an UPDATE of the family row); a session
lasts 30 days from its login, then a new one starts; ended sessions (sign-out, reinstall,
reuse) 0.05; images 1 (two delivered outbox rows: image.requested, image.ready); failed
logins 0.01 (two login_attempts rows: per address and over every address); transfer codes
0.005; password-reset codes 0.005; deletion codes 0.0005; Apple/Google ID-token uses, one
per login; console sign-ins 20 a day in all.
"""

import argparse
import asyncio
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import asyncpg

from adapters.sql.migrate import upgrade_database
from adapters.sql.tables import metadata
from tests.bench.bench_identity import (
    ADMIN_DSN,
    ME_LUA,
    REFRESH_LUA,
    RUNS,
    SECONDS,
    guests,
    measured,
    start_server,
    write_sessions,
)
from tests.bench.bench_refresh import _backends, _cpu

ROOT = Path(__file__).resolve().parents[2]
SESSION_DAYS = 30

# One statement per table; $1 members, $2 days, $3..: rates. `day0` is when the simulated
# history starts (now - days); ids are md5s (random-looking, as the UUIDs the app makes).
LOAD = {
    "users": """
        INSERT INTO users SELECT 'u' || i, 'member', 'active', 'm' || i || '@example.com',
          true, 'sub-' || md5(i::text), NULL, false, now() - $2 * interval '1 day',
          now() - (i % 3600) * interval '1 second', 1
        FROM generate_series(1, $1) i""",
    "devices": """
        INSERT INTO devices SELECT 'u' || i, upper(md5('device' || i)), 'ios',
          now() - $2 * interval '1 day', now() - (i % 3600) * interval '1 second', NULL
        FROM generate_series(1, $1) i""",
    # Sessions by lifetime: the member's current one began `phase` ago (uniform over the
    # 30 days), the earlier ones every 30 days before it, back to the start of the history
    # (a member whose phase is older than the history logged in at its start). The current
    # one has been refreshed every hour since.
    "refresh_families (by lifetime)": """
        INSERT INTO refresh_families
        SELECT md5('f' || i || '-' || k), 'u' || i, upper(md5('device' || i)), c,
          c + interval '30 days', md5('c' || i || k) || md5('C' || i || k),
          floor(extract(epoch FROM (least(now(), c + interval '30 days') - c)) / 3600)::int,
          md5('p' || i || k) || md5('P' || i || k), decode(md5('n' || i) || md5('N' || i), 'hex'),
          least(now(), c + interval '30 days') - interval '20 minutes', NULL, NULL
        FROM generate_series(1, $1) i,
          LATERAL (SELECT (i * 7919 % 2592000) * interval '1 second' AS phase) p,
          LATERAL generate_series(0, ceil($2 / 30.0)::int) k,
          LATERAL (SELECT greatest(now() - p.phase - k * interval '30 days',
                                   now() - $2 * interval '1 day') AS c) t
        WHERE k = 0 OR now() - p.phase - k * interval '30 days' >= now() - $2 * interval '1 day'
        """,
    # Ended sessions: $3 per member and day, each begun up to 30 days before its end.
    "refresh_families (ended)": """
        INSERT INTO refresh_families
        SELECT md5('e' || j), 'u' || (1 + j * 7919 % $1), upper(md5('device' || j)), c,
          c + interval '30 days', md5('c' || j) || md5('C' || j), 10,
          md5('p' || j) || md5('P' || j), decode(md5('n' || j) || md5('N' || j), 'hex'),
          ended - interval '1 hour', ended, 'signed_out'
        FROM generate_series(1, ceil($1 * $2 * $3)::bigint) j,
          LATERAL (SELECT now() - $2 * interval '1 day'
                     + (j % ceil($1 * $2 * $3)::bigint) * ($2 * interval '1 day')
                       / ceil($1 * $2 * $3)::bigint AS ended) e,
          LATERAL (SELECT greatest(ended - (j * 104729 % 2592000) * interval '1 second',
                                   now() - $2 * interval '1 day') AS c) t""",
    # Images: two outbox rows each, delivered a moment after.
    "outbox": """
        INSERT INTO outbox SELECT md5('o' || j), CASE WHEN j % 2 = 0 THEN 'image.requested'
            ELSE 'image.ready' END,
          '{"image_id": "' || md5('i' || j / 2) || '", "user_id": "u' || (1 + j * 7919 % $1)
            || '", "object_key": "images/u' || (1 + j * 7919 % $1) || '/' || md5('i' || j / 2)
            || '.png", "traceparent": "00-' || md5('t' || j / 2) || '-' || left(md5('s' || j), 16)
            || '-01"}',
          at, at + interval '50 milliseconds', 1
        FROM generate_series(1, ceil($1 * $2 * $3 * 2)::bigint) j,
          LATERAL (SELECT now() - $2 * interval '1 day'
                     + j * ($2 * interval '1 day') / ceil($1 * $2 * $3 * 2)::bigint AS at) a""",
    # A failed login: a row for its address and one over every address (same e-mail
    # repeats are the same rows: ON CONFLICT keeps the later).
    "login_attempts": """
        INSERT INTO login_attempts SELECT 'm' || (1 + j * 7919 % $1) || '@example.com', src, 1,
          NULL, at
        FROM generate_series(1, ceil($1 * $2 * $3)::bigint) j,
          LATERAL (SELECT now() - $2 * interval '1 day'
                     + j * ($2 * interval '1 day') / ceil($1 * $2 * $3)::bigint AS at) a,
          LATERAL (VALUES ('*'), ('10.' || j % 250 || '.' || j % 199 || '.' || j % 97)) s(src)
        ON CONFLICT (email, source) DO UPDATE SET last_failed_at = excluded.last_failed_at""",
    "transfer_codes": """
        INSERT INTO transfer_codes SELECT md5('x' || j) || md5('X' || j),
          'u' || (1 + j * 7919 % $1), at, at + interval '1 day', at + interval '10 minutes', NULL
        FROM generate_series(1, ceil($1 * $2 * $3)::bigint) j,
          LATERAL (SELECT now() - $2 * interval '1 day'
                     + j * ($2 * interval '1 day') / ceil($1 * $2 * $3)::bigint AS at) a""",
    "local_codes": """
        INSERT INTO local_codes SELECT 'sub-' || md5((1 + j * 7919 % $1)::text), 'reset', NULL,
          NULL, at + interval '1 hour', 0, at, at, 1
        FROM generate_series(1, ceil($1 * $2 * $3)::bigint) j,
          LATERAL (SELECT now() - $2 * interval '1 day'
                     + j * ($2 * interval '1 day') / ceil($1 * $2 * $3)::bigint AS at) a
        ON CONFLICT (subject, purpose) DO UPDATE SET expires_at = excluded.expires_at,
          sent_at = excluded.sent_at, window_started_at = excluded.window_started_at""",
    "deletion_codes": """
        INSERT INTO deletion_codes SELECT 'u' || (1 + j * 7919 % $1),
          md5('d' || j) || md5('D' || j), at, at + interval '1 hour', 0
        FROM generate_series(1, ceil($1 * $2 * $3)::bigint) j,
          LATERAL (SELECT now() - $2 * interval '1 day'
                     + j * ($2 * interval '1 day') / ceil($1 * $2 * $3)::bigint AS at) a
        ON CONFLICT (user_id) DO NOTHING""",
    "id_token_uses": """
        INSERT INTO id_token_uses SELECT 'apple', md5('a' || j) || md5('A' || j),
          upper(md5('device' || j)), at + interval '10 minutes'
        FROM generate_series(1, ceil($1 * $2 * $3)::bigint) j,
          LATERAL (SELECT now() - $2 * interval '1 day'
                     + j * ($2 * interval '1 day') / ceil($1 * $2 * $3)::bigint AS at) a""",
    "console_sessions": """
        INSERT INTO console_sessions SELECT md5('k' || j) || md5('K' || j),
          'admin-' || j % 5, 'cognito', 'admin' || j % 5 || '@example.com', at, at,
          at + interval '12 hours'
        FROM generate_series(1, 20 * $2 + 0 * $1) j,
          LATERAL (SELECT now() - $2 * interval '1 day' + j * interval '72 minutes' AS at) a""",
}
# Which --rate flag feeds each statement's $3 (None: the statement takes $1, $2 only).
RATES = {
    "users": None, "devices": None, "refresh_families (by lifetime)": None,
    "refresh_families (ended)": "ended_sessions", "outbox": "images",
    "login_attempts": "failed_logins", "transfer_codes": "transfer_codes",
    "local_codes": "reset_codes", "deletion_codes": "deletion_codes",
    "id_token_uses": "logins", "console_sessions": None,
}


async def create_database() -> tuple[str, str, str]:
    name = f"growth_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(ADMIN_DSN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    base = ADMIN_DSN.rsplit("/", 1)[0]
    url = base.replace("postgresql://", "postgresql+asyncpg://") + f"/{name}"
    await upgrade_database(url)
    return name, url, f"{base}/{name}"


async def drop_database(name: str) -> None:
    admin = await asyncpg.connect(ADMIN_DSN)
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


async def load(dsn: str, members: int, days: int, rates: dict[str, float],
               jobs: int = 2) -> dict[str, float]:
    """Runs every LOAD statement, `jobs` at a time on their own connections; returns seconds
    per statement and in all. Foreign-key triggers are off while loading
    (session_replication_role = replica): each would look up and lock, row by row, a user
    the generated ids point to by construction; every foreign key is checked once
    afterwards, set-based (`orphans`). Nothing else is off: the tables stay logged, and
    their indexes, unique constraints and ON CONFLICT work as the app's inserts do."""
    seconds: dict[str, float] = {}
    queue = list(LOAD.items())

    async def worker() -> None:
        connection = await asyncpg.connect(dsn)
        try:
            await connection.execute("SET synchronous_commit = off")
            await connection.execute("SET session_replication_role = replica")
            while queue:
                label, statement = queue.pop(0)
                rate = RATES[label]
                args: list[Any] = [members, days] + ([rates[rate]] if rate else [])
                started = time.monotonic()
                typed = (statement.replace("$1", "($1::bigint)").replace("$2", "($2::int)")
                         .replace("$3", "($3::float8)"))
                await connection.execute(typed, *args)
                seconds[label] = round(time.monotonic() - started, 1)
                print(f"  loaded {label} in {seconds[label]} s", file=sys.stderr)
        finally:
            await connection.close()

    started = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(max(1, jobs))))
    seconds["statements (wall)"] = round(time.monotonic() - started, 1)
    connection = await asyncpg.connect(dsn)
    try:
        missing = await orphans(connection)
        if missing:
            raise SystemExit(f"loaded rows whose foreign key points nowhere: {missing}")
        await connection.execute("VACUUM ANALYZE")
    finally:
        await connection.close()
    seconds["total with foreign-key check and VACUUM ANALYZE"] = round(
        time.monotonic() - started, 1)
    return seconds


async def orphans(connection: asyncpg.Connection) -> dict[str, int]:
    """Rows per foreign key whose referenced row is missing (anti-joins; expected none)."""
    out = {}
    for table in metadata.sorted_tables:
        for fk in table.foreign_keys:
            child, parent = fk.parent, fk.column
            count = await connection.fetchval(
                f'SELECT count(*) FROM "{table.name}" c WHERE NOT EXISTS '
                f'(SELECT 1 FROM "{parent.table.name}" p WHERE p."{parent.name}" = '
                f'c."{child.name}")')
            if count:
                out[f"{table.name}.{child.name}"] = count
    return out


async def sizes(dsn: str) -> dict[str, dict[str, int]]:
    """Rows and pg_total_relation_size (heap, indexes, TOAST) of every application table."""
    connection = await asyncpg.connect(dsn)
    try:
        out = {}
        for table in metadata.sorted_tables:
            rows = await connection.fetchval(f'SELECT count(*) FROM "{table.name}"')
            size = await connection.fetchval("SELECT pg_total_relation_size($1)", table.name)
            out[table.name] = {"rows": rows, "bytes": size}
        return out
    finally:
        await connection.close()


async def vacuum(dsn: str, full: bool) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute("VACUUM FULL ANALYZE" if full else "VACUUM ANALYZE")
    finally:
        await connection.close()


def maintenance(url: str, work: Path) -> tuple[dict[str, int], float]:
    """`atelier maintenance run` as the scheduled task runs it: deleted rows per table and
    the wall time."""
    env = {**os.environ, "DATABASE_URL": url, "ATELIER_DATA_DIR": str(work / "cli"),
           "ATELIER_KEYSTORE": "file", "ATELIER_LOG_LEVEL": "WARNING"}
    started = time.monotonic()
    out = subprocess.run([sys.executable, "-m", "entrypoints.cli.main", "maintenance", "run"],
                         env=env, capture_output=True, text=True, check=True, cwd=ROOT).stdout
    elapsed = time.monotonic() - started
    deleted = {}
    for line in out.splitlines():
        table, _, rest = line.partition(": ")
        if rest.endswith(" deleted"):
            deleted[table] = int(rest.split()[0])
    return deleted, elapsed


def per_member(table_sizes: dict[str, dict[str, int]], members: int) -> float:
    return sum(t["bytes"] for t in table_sizes.values()) / members


def growth(members: int, days: int, rates: dict[str, float], work: Path,
           jobs: int = 2) -> dict[str, Any]:
    """Load, measure, maintain, measure again; the database is dropped at the end."""
    name, url, dsn = asyncio.run(create_database())
    try:
        seconds = asyncio.run(load(dsn, members, days, rates, jobs))
        before = asyncio.run(sizes(dsn))
        deleted, maintenance_s = maintenance(url, work)
        asyncio.run(vacuum(dsn, full=False))
        after = asyncio.run(sizes(dsn))
        asyncio.run(vacuum(dsn, full=True))
        compact = asyncio.run(sizes(dsn))
    finally:
        asyncio.run(drop_database(name))
    return {
        "members": members, "days": days, "load_seconds": seconds,
        "maintenance_seconds": round(maintenance_s, 1), "deleted": deleted,
        "before": before, "after_maintenance_and_vacuum": after, "after_vacuum_full": compact,
        "bytes_per_member": {
            "before": round(per_member(before, members)),
            "after_maintenance_and_vacuum": round(per_member(after, members)),
            "after_vacuum_full": round(per_member(compact, members)),
        },
    }


def database_cpu(database: str, run: Callable[[], tuple[float, float]]) -> tuple[float, float,
                                                                                 float]:
    """(req/s, server us per request, PostgreSQL backends' us per request) of one wrk run,
    reading the CPU of the backends connected to `database` as bench_refresh does."""
    before = _cpu(asyncio.run(_backends(database)))
    rate, server_us = run()
    after = _cpu(asyncio.run(_backends(database)))
    spent = sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())
    return rate, server_us, spent / (rate * SECONDS) * 1e6


def speed(loaded_name: str, loaded_url: str, work: Path) -> dict[str, Any]:
    """/me and refresh on the loaded database vs an empty one, interleaved, medians."""
    empty_name, empty_url, _ = asyncio.run(create_database())
    names = {"loaded": loaded_name, "empty": empty_name}
    database_us: dict[str, list[float]] = {k: [] for k in (
        "me_loaded", "me_empty", "refresh_loaded", "refresh_empty")}
    servers = {}
    try:
        for label, url in (("loaded", loaded_url), ("empty", empty_url)):
            servers[label] = start_server(url, work / label)
        me: dict[str, list[float]] = {"loaded": [], "empty": []}
        refresh: dict[str, list[float]] = {"loaded": [], "empty": []}
        cpu: dict[str, list[float]] = {k: [] for k in
                                       ("me_loaded", "me_empty", "refresh_loaded",
                                        "refresh_empty")}
        scripts = {}
        for label, (_, base) in servers.items():
            tokens = work / f"tokens-{label}.txt"
            tokens.write_text("\n".join(s[0] for s in guests(base, 64)) + "\n")
            scripts[label] = (work / f"me-{label}.lua", work / f"refresh-{label}.lua",
                              work / f"sessions-{label}.txt")
            scripts[label][0].write_text(ME_LUA % {"tokens": tokens})
            scripts[label][1].write_text(REFRESH_LUA % {"sessions": scripts[label][2]})
        for _ in range(RUNS):  # interleaved, so drift on a noisy machine hits both
            for label, (server, base) in servers.items():
                me_script, refresh_script, sessions = scripts[label]
                rate, us, db_us = database_cpu(
                    names[label], partial(measured, server, base, 64, 1, me_script))
                database_us[f"me_{label}"].append(db_us)
                me[label].append(rate)
                cpu[f"me_{label}"].append(us)
                write_sessions(sessions, guests(base, 64 + 4))
                rate, us, db_us = database_cpu(
                    names[label], partial(measured, server, base, 64, 1, refresh_script))
                database_us[f"refresh_{label}"].append(db_us)
                refresh[label].append(rate)
                cpu[f"refresh_{label}"].append(us)
    finally:
        for server, _ in servers.values():
            server.terminate()
            server.wait(10)
        asyncio.run(drop_database(empty_name))
    median = {f"{kind}_{label}": statistics.median(runs[label])
              for kind, runs in (("me", me), ("refresh", refresh)) for label in runs}
    return {
        "median_req_per_s": {k: round(v) for k, v in median.items()},
        "me_loaded_vs_empty": round(median["me_loaded"] / median["me_empty"], 3),
        "refresh_loaded_vs_empty": round(median["refresh_loaded"] / median["refresh_empty"], 3),
        "server_cpu_us_per_request": {k: round(statistics.median(v)) for k, v in cpu.items()},
        "postgres_cpu_us_per_request": {
            k: round(statistics.median(v)) for k, v in database_us.items()},
        "per_run_req_per_s": {"me": me, "refresh": refresh},
        "runs": RUNS,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--flat-days", default="", help="e.g. 7,35,90 (comma separated)")
    parser.add_argument("--flat-members", type=int, default=0)
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--load-jobs", type=int, default=2,
                        help="load statements run at once, each on its own connection")
    parser.add_argument("--rate-ended-sessions", type=float, default=0.05)
    parser.add_argument("--rate-images", type=float, default=1.0)
    parser.add_argument("--rate-failed-logins", type=float, default=0.01)
    parser.add_argument("--rate-transfer-codes", type=float, default=0.005)
    parser.add_argument("--rate-reset-codes", type=float, default=0.005)
    parser.add_argument("--rate-deletion-codes", type=float, default=0.0005)
    args = parser.parse_args()
    if not args.skip_speed and not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")
    rates = {"ended_sessions": args.rate_ended_sessions, "images": args.rate_images,
             "failed_logins": args.rate_failed_logins,
             "transfer_codes": args.rate_transfer_codes, "reset_codes": args.rate_reset_codes,
             "deletion_codes": args.rate_deletion_codes,
             # one Apple/Google sign-in per session begun
             "logins": 1 / SESSION_DAYS + args.rate_ended_sessions}
    scratch = ROOT / ".atelier"
    scratch.mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench-growth-", dir=scratch))
    report: dict[str, Any] = {"rates_per_member_per_day": rates}
    try:
        flat_members = args.flat_members or max(1, args.members // 10)
        flat = []
        for days in [int(d) for d in args.flat_days.split(",") if d]:
            print(f"flatness: {flat_members} members, {days} days", file=sys.stderr)
            run = growth(flat_members, days, rates, work, args.load_jobs)
            flat.append({k: run[k] for k in ("members", "days", "bytes_per_member",
                                             "maintenance_seconds", "deleted")})
        if flat:
            report["flatness"] = flat
        print(f"main: {args.members} members, {args.days} days", file=sys.stderr)
        name, url, dsn = asyncio.run(create_database())
        try:
            seconds = asyncio.run(load(dsn, args.members, args.days, rates, args.load_jobs))
            before = asyncio.run(sizes(dsn))
            report["main"] = {"members": args.members, "days": args.days,
                              "load_seconds": seconds, "before": before}
            if not args.skip_speed:
                report["speed_before_maintenance"] = speed(name, url, work)
            deleted, maintenance_s = maintenance(url, work)
            asyncio.run(vacuum(dsn, full=False))
            after = asyncio.run(sizes(dsn))
            asyncio.run(vacuum(dsn, full=True))
            compact = asyncio.run(sizes(dsn))
            report["main"].update({
                "maintenance_seconds": round(maintenance_s, 1), "deleted": deleted,
                "after_maintenance_and_vacuum": after, "after_vacuum_full": compact,
                "bytes_per_member": {
                    "before": round(per_member(before, args.members)),
                    "after_maintenance_and_vacuum": round(per_member(after, args.members)),
                    "after_vacuum_full": round(per_member(compact, args.members)),
                }})
        finally:
            asyncio.run(drop_database(name))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
