import argparse
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from entrypoints.http_edge.logging import configure_logging, use_log_format
from entrypoints.wiring.settings import Settings
from entrypoints.wiring.tracing import install_tracing

ASGIApp = Callable[..., Awaitable[None]]


def explain(error: Exception) -> str | None:
    """One line for what an operator can fix (a folder, a permission, a name); None for a bug,
    whose traceback is worth its length."""
    from sqlalchemy.exc import DBAPIError

    from domain.shared.errors import DomainError

    if isinstance(error, DomainError):
        return error.message
    if isinstance(error, OSError) and error.strerror:
        where = f": {error.filename}" if error.filename else ""
        return f"{error.strerror}{where}"
    if isinstance(error, DBAPIError):
        reason = str(error.orig).splitlines()[0] if error.orig else type(error).__name__
        if "no such table" in reason or "does not exist" in reason:
            return f"the database has no schema yet ({reason}): run `atelier db upgrade`"
        return f"the database refused: {reason}"
    return None


def _settings(args: argparse.Namespace | None = None) -> Settings:
    settings = Settings()
    data_dir = getattr(args, "data_dir", None)
    if data_dir:
        settings = settings.model_copy(update={"data_dir": Path(data_dir)})
    if settings.data_dir.exists() and not settings.data_dir.is_dir():
        raise SystemExit(f"atelier: the data dir {settings.data_dir} is a file, not a folder")
    return settings


async def _resolved(args: argparse.Namespace | None = None) -> Settings:
    from entrypoints.wiring.resources import resolve_settings

    return await resolve_settings(_settings(args))


def settle_heap() -> None:
    """What start-up built (modules, containers, the OpenAPI documents) lives as long as
    the process: collected once, then frozen out of the collector's reach, so a full
    collection no longer walks it; and a young generation of 10,000 objects instead of 700,
    so the objects of requests in flight are not promoted (and walked again) many times a
    second. Under load the collector took about a fifth of a refresh's CPU before."""
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)


def _uvicorn(app: ASGIApp, host: str, port: int, drain_seconds: float | None = None,
             **options: Any) -> None:
    """uvicorn; with `drain_seconds` (a process serving the gateway), the server whose
    SIGTERM first drains the gateway's sockets over that time (edge_gateway/server.py)."""
    import uvicorn

    settle_heap()
    ws = options.pop("ws", "wsproto")
    config: dict[str, Any] = dict(
        host=host, port=port, log_config=None, ws=ws, http="httptools", loop="uvloop",
        timeout_graceful_shutdown=20, proxy_headers=False, server_header=False, **options)
    if drain_seconds is None:
        uvicorn.run(app, **config)
        return
    from entrypoints.edge_gateway.server import serve_draining

    if not serve_draining(uvicorn.Config(app, **config), drain_seconds):
        sys.exit(3)  # uvicorn's STARTUP_FAILURE


def _ensure_port_free(host: str, port: int) -> None:
    """Fail before migrations or the worker start, not after, when the port is taken."""
    import socket

    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
            probe.bind(address)
    except OSError as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise SystemExit(f"atelier: cannot listen on {host}:{port}: {reason}") from None


def _gateway_options(settings: Settings) -> dict[str, Any]:
    """Protocol-level keepalive pings and the inbound frame limit, enforced by uvicorn; its
    wsproto protocol with less kept per idle socket (entrypoints/edge_gateway/protocol.py)."""
    return {
        "ws": "entrypoints.edge_gateway.protocol:GatewayWSProtocol",
        "ws_ping_interval": settings.gateway_ping_interval_seconds,
        "ws_ping_timeout": settings.gateway_ping_timeout_seconds,
        "ws_max_size": settings.gateway_max_inbound_bytes,
        "ws_per_message_deflate": False,
        "backlog": 4096,
    }


def _listening_at(settings: Settings, host: str, port: int) -> Settings:
    """Unless set, the public URL and the tokens' `iss` are where `atelier dev` listens, so
    `--port 9000` signs tokens and serves the gateway's JWKS at :9000, not at the default."""
    base = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
    public_url = settings.public_url or base
    update: dict[str, str] = {"public_url": public_url}
    if "issuer" not in settings.model_fields_set:
        update["issuer"] = public_url
    return settings.model_copy(update=update)


def _banner(settings: Settings) -> str:
    """Where a newcomer goes next, printed once the schema is ready."""
    base = (settings.public_url or settings.issuer).rstrip("/")
    socket_base = base.replace("http", "ws", 1)
    return "\n".join([
        f"atelier dev is up at {base}",
        f"  console          {base}/",
        f"  mobile API docs  {base}/v1/api/schema/swagger  (OpenAPI: /v1/api/schema)",
        f"  admin API docs   {base}/v1/api/admin/schema/swagger  (OpenAPI: /v1/api/admin/schema)",
        f"  realtime socket  {socket_base}/v1/realtime",
        f"  mail it sent     {settings.data_dir.resolve() / 'mailbox'}/",
        f"  data folder      {settings.data_dir.resolve()}/",
        f"  try it           uv run atelier demo --base-url {base}",
        "  stop it          Ctrl+C",
    ])


def dev(args: argparse.Namespace) -> int:
    import asyncio

    from entrypoints.dev.app import create_dev_app
    from entrypoints.wiring.schema import make_data_dir_private, upgrade_schema

    _ensure_port_free(args.host, args.port)
    configure_logging(os.environ.get("ATELIER_LOG_LEVEL", "INFO"))
    settings = asyncio.run(_resolved(args))
    install_tracing(settings, "atelier-dev")
    use_log_format(args.log_format or settings.log_format)
    os.umask(0o077)  # what the embedded default writes is its owner's alone
    make_data_dir_private(settings)
    settings = _listening_at(settings, args.host, args.port)
    asyncio.run(upgrade_schema(settings))
    print(_banner(settings), flush=True)
    # The gateway is mounted here too: uvicorn must refuse an oversized frame as it arrives.
    # Ctrl-C stays quick: no paced drain unless ATELIER_GATEWAY_DRAIN_SECONDS asks for one.
    drain = (settings.gateway_drain_seconds
             if "gateway_drain_seconds" in settings.model_fields_set else 0.0)
    _uvicorn(create_dev_app(settings), args.host, args.port, drain_seconds=drain,
             **_gateway_options(settings))
    return 0


def serve(args: argparse.Namespace) -> int:
    import asyncio

    from entrypoints.wiring.infrastructure import Infrastructure

    _ensure_port_free(args.host, args.port)
    configure_logging(os.environ.get("ATELIER_LOG_LEVEL", "INFO"))
    settings = asyncio.run(_resolved(args))
    install_tracing(settings, f"atelier-{args.entrypoint}")
    use_log_format(args.log_format or settings.log_format)
    infrastructure = Infrastructure(settings=settings)
    app: ASGIApp
    if args.entrypoint == "mobile-api":
        from entrypoints.mobile_api.app import create_app
        from entrypoints.mobile_api.container import MobileContainer

        app = create_app(MobileContainer(infrastructure=infrastructure))
    elif args.entrypoint == "gateway":
        from entrypoints.edge_gateway.app import create_app as create_gateway_app
        from entrypoints.edge_gateway.container import GatewayContainer

        _uvicorn(create_gateway_app(GatewayContainer(infrastructure=infrastructure)),
                 args.host, args.port, drain_seconds=settings.gateway_drain_seconds,
                 **_gateway_options(settings))
        return 0
    elif args.entrypoint == "admin-api":
        from entrypoints.admin_api.app import create_app as create_admin_app
        from entrypoints.admin_api.container import AdminContainer

        app = create_admin_app(AdminContainer(infrastructure=infrastructure))
    elif args.entrypoint == "console":
        from entrypoints.console.app import create_app as create_console_app
        from entrypoints.console.container import ConsoleContainer

        app = create_console_app(ConsoleContainer(infrastructure=infrastructure))
    else:
        raise SystemExit(f"{args.entrypoint} is not built yet")
    _uvicorn(app, args.host, args.port)
    return 0


async def db_upgrade(args: argparse.Namespace) -> int:
    from entrypoints.wiring.schema import upgrade_schema

    await upgrade_schema(await _resolved(args))
    print("database is at the latest schema")
    return 0


async def keys_rotate(args: argparse.Namespace) -> int:
    from entrypoints.cli.container import use_case

    async with use_case(await _resolved(args), "rotate_keys") as rotate:
        moves: list[str] = await rotate()
    print("\n".join(moves) if moves else "nothing to do: keys are where the timing wants them")
    return 0


async def keys_list(args: argparse.Namespace) -> int:
    from entrypoints.cli.container import use_case

    async with use_case(await _resolved(args), "list_keys") as list_keys:
        keys = await list_keys()
    for key in keys:
        print(f"{key.kid}  {key.state.value:<9} created {key.created_at.isoformat()}")
    if not keys:
        print("no signing keys here (wrong --data-dir?): `atelier keys rotate` creates them",
              file=sys.stderr)
    return 0


async def keys_revoke(args: argparse.Namespace) -> int:
    from entrypoints.cli.container import use_case

    async with use_case(await _resolved(args), "revoke_key") as revoke:
        key, moves = await revoke(args.kid)
    print(f"revoked {key.kid}")
    for move in moves:
        print(move)
    return 0


async def guests_purge(args: argparse.Namespace) -> int:
    from entrypoints.cli.container import use_case
    from entrypoints.cli.progress import ProgressLine

    async with use_case(await _resolved(args), "purge_guests") as purge:
        with ProgressLine("purge", "guests") as progress:
            purged = await purge(progress)
    print(f"purged {purged} idle guest(s)")
    return 0


async def maintenance_run(args: argparse.Namespace) -> int:
    from entrypoints.cli.container import use_case
    from entrypoints.cli.progress import ProgressLine

    async with use_case(await _resolved(args), "run_retention") as run_retention:
        with ProgressLine("maintenance", "deleted") as line:
            deleted: dict[str, int] = await run_retention(
                lambda table, count: line(count, table))
    for table, count in deleted.items():
        print(f"{table}: {count} deleted")
    return 0


async def jobs_list(args: argparse.Namespace) -> int:
    from application.images.redrive_jobs import retryable
    from domain.images.model import ImageStatus
    from entrypoints.cli.container import use_case

    status = ImageStatus.FAILED if args.failed else ImageStatus(args.status)
    async with use_case(await _resolved(args), "list_jobs") as list_jobs:
        jobs = await list_jobs(status, args.limit)
    for job in jobs:
        note = job.failure_reason or ""
        if status is ImageStatus.FAILED:
            note = f"{'redrivable' if retryable(job) else 'final':<10}  {note}"
        print(f"{job.id}  {job.status.value:<10} {job.updated_at.isoformat()}  "
              f"user {job.user_id}  {note}".rstrip())
    if not jobs:
        print(f"no {status.value} jobs", file=sys.stderr)
    return 0


async def jobs_redrive(args: argparse.Namespace) -> int:
    from entrypoints.cli.container import use_case
    from entrypoints.cli.progress import ProgressLine

    async with use_case(await _resolved(args), "redrive_jobs") as redrive:
        with ProgressLine("redrive", "jobs") as progress:
            done = await redrive(args.limit, args.dry_run, progress)
    verb = "would send" if args.dry_run else "sent"
    for image_id in done.sent:
        print(f"{image_id}  {verb} back to the work queue")
    for image_id in done.dropped:
        print(f"{image_id}  {'would drop' if args.dry_run else 'dropped'} its dead letter "
              "(the job finished another way)")
    print(f"{verb} {len(done.sent)} job(s) back to the work queue"
          + (" (dry run: nothing changed)" if args.dry_run else ""))
    return 0


def _read_password(args: argparse.Namespace) -> str:
    import getpass

    if args.password_stdin or not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            raise SystemExit("the passwords differ")
    if not password:
        raise SystemExit("no password given")
    return password


async def admin_create(args: argparse.Namespace) -> int:
    from application.admin.acting import Acting
    from domain.admins.model import AdminIdentity, AdminSource
    from domain.shared.errors import DomainError
    from entrypoints.cli.container import use_case
    from entrypoints.http_edge.email_address import parse_email_address
    from entrypoints.wiring.schema import create_embedded_schema

    password = _read_password(args)
    settings = await _resolved(args)
    await create_embedded_schema(settings)
    operator = os.environ.get("USER") or "operator"
    async with use_case(settings, "create_local_admin") as create:
        try:
            admin = await create(Acting(AdminIdentity(operator, AdminSource.CLI)),
                                 parse_email_address(args.email), password)
        except DomainError as error:
            raise SystemExit(f"not created: {error.message}") from None
    print(f"admin {admin.email} created ({admin.id})")
    return 0


def worker(args: argparse.Namespace) -> int:
    import asyncio

    from entrypoints.image_worker.main import run_worker
    from entrypoints.wiring.schema import require_schema

    configure_logging(os.environ.get("ATELIER_LOG_LEVEL", "INFO"))

    async def main() -> int:
        settings = await _resolved(args)
        use_log_format(args.log_format or settings.log_format)
        await require_schema(settings)
        return await run_worker(settings)

    return asyncio.run(main())


def demo(args: argparse.Namespace) -> int:
    import asyncio

    import httpx

    from entrypoints.cli.demo import run_demo

    try:
        httpx.get(f"{args.base_url.rstrip('/')}/healthz", timeout=5)
    except httpx.TransportError:
        raise SystemExit(f"atelier: nothing answers at {args.base_url}: start the stack with "
                         "`uv run atelier dev` in another terminal, then run the demo again"
                         ) from None
    return asyncio.run(run_demo(args.base_url, args.timeout))
