import argparse
import os
from contextlib import asynccontextmanager
from pathlib import Path

from entrypoints.common.logging import configure_logging
from entrypoints.common.settings import Settings


def _settings(args: argparse.Namespace | None = None) -> Settings:
    settings = Settings()
    data_dir = getattr(args, "data_dir", None)
    if data_dir:
        settings = settings.model_copy(update={"data_dir": Path(data_dir)})
    return settings


async def _resolved(args: argparse.Namespace | None = None) -> Settings:
    from entrypoints.common.resources import resolve_settings

    return await resolve_settings(_settings(args))


def _uvicorn(app: object, host: str, port: int) -> None:
    import uvicorn

    uvicorn.run(app, host=host, port=port, log_config=None, ws="wsproto", http="httptools",
                loop="uvloop", timeout_graceful_shutdown=20, proxy_headers=False,
                server_header=False)


def dev(args: argparse.Namespace) -> int:
    import asyncio

    from adapters.sql.migrate import upgrade_database
    from entrypoints.dev.app import create_dev_app

    configure_logging(os.environ.get("ATELIER_LOG_LEVEL", "INFO"))
    settings = asyncio.run(_resolved(args))
    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not settings.public_url:
        base = f"http://{args.host}:{args.port}"
        settings = settings.model_copy(update={"public_url": base})
    asyncio.run(upgrade_database(settings.sql_url))
    print(f"atelier dev: http://{args.host}:{args.port}  (data in {settings.data_dir}/)",
          flush=True)
    _uvicorn(create_dev_app(settings), args.host, args.port)
    return 0


def serve(args: argparse.Namespace) -> int:
    import asyncio

    configure_logging(os.environ.get("ATELIER_LOG_LEVEL", "INFO"))
    settings = asyncio.run(_resolved(args))
    if args.entrypoint == "mobile-api":
        from entrypoints.mobile_api.app import create_app
        from entrypoints.mobile_api.container import MobileContainer

        app = create_app(MobileContainer(settings=settings))
    else:
        raise SystemExit(f"{args.entrypoint} is not built yet")
    _uvicorn(app, args.host, args.port)
    return 0


async def db_upgrade(args: argparse.Namespace) -> int:
    from adapters.sql.migrate import upgrade_database

    settings = await _resolved(args)
    await upgrade_database(settings.sql_url)
    print("database is at the latest schema")
    return 0


async def _key_use_case(name: str, *call_args: str) -> object:
    from adapters.crypto.eddsa import generate_ed25519
    from application.keys.manage_keys import ListKeys, RevokeKey, RotateKeys
    from domain.shared.clock import utcnow
    from entrypoints.common import builders, resources

    settings = await _resolved()
    async with asynccontextmanager(resources.open_aws)(settings) as aws:
        store = await builders.build_key_store(settings, aws)
        if name == "rotate":
            return await RotateKeys(store, generate_ed25519, settings.rotation_policy(), utcnow)()
        if name == "list":
            return await ListKeys(store)()
        return await RevokeKey(store, utcnow)(*call_args)


async def keys_rotate(args: argparse.Namespace) -> int:
    moves = await _key_use_case("rotate")
    assert isinstance(moves, list)
    print("\n".join(moves) if moves else "nothing to do: keys are where the timing wants them")
    return 0


async def keys_list(args: argparse.Namespace) -> int:
    keys = await _key_use_case("list")
    assert isinstance(keys, list)
    for key in keys:
        print(f"{key.kid}  {key.state.value:<9} created {key.created_at.isoformat()}")
    return 0


async def keys_revoke(args: argparse.Namespace) -> int:
    key = await _key_use_case("revoke", args.kid)
    print(f"revoked {getattr(key, 'kid', args.kid)}")
    return 0


async def guests_purge(args: argparse.Namespace) -> int:
    from application.guests.purge_guests import PurgeGuests
    from domain.shared.clock import utcnow
    from entrypoints.common import builders, resources

    settings = await _resolved()
    async with asynccontextmanager(resources.open_engine)(settings.sql_url) as engine:
        purged = await PurgeGuests(
            builders.sql_uow_factory(engine), settings.auth_policy(), utcnow)()
        print(f"purged {purged} idle guest(s)")
    return 0
