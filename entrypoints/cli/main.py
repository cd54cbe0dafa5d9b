"""`atelier`: one command for every deployable and operator task."""

import argparse
import asyncio
import sys
from collections.abc import Callable, Sequence
from typing import Any

from entrypoints.cli import commands

HOST, PORT = "127.0.0.1", 8000


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port: choose one from 1 to 65535")
    return port


def _positive(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"{number} is too small: give 1 or more")
    return number


def _serve_args(parser: argparse.ArgumentParser, host: str = HOST) -> None:
    parser.add_argument("--host", default=host, help=f"address to listen on (default {host})")
    parser.add_argument("--port", type=_port, default=PORT,
                        help=f"port to listen on, 1-65535 (default {PORT})")


def _log_format_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--log-format", choices=["auto", "json", "text"], default=None,
                        help="json, text, or auto: text on a terminal, JSON otherwise "
                             "(default: the log_format setting, auto)")


def _data_dir_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", default=None,
                        help="where the embedded default's state lives (default .atelier, "
                             "or ATELIER_DATA_DIR)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="atelier", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    dev = sub.add_parser("dev", help="run the embedded default: every entrypoint on one port")
    _serve_args(dev)
    _data_dir_arg(dev)
    _log_format_arg(dev)
    dev.set_defaults(run=commands.dev)

    serve = sub.add_parser("serve", help="run one HTTP entrypoint (what a container runs)")
    serve.add_argument("entrypoint", choices=["mobile-api", "admin-api", "gateway", "console"],
                       help="which one: mobile-api, admin-api, gateway or console")
    _serve_args(serve, host="0.0.0.0")  # noqa: S104 - containers listen on every interface
    _log_format_arg(serve)
    serve.set_defaults(run=commands.serve)

    worker = sub.add_parser("worker", help="run the image worker (SQS consumer in production)")
    _data_dir_arg(worker)
    _log_format_arg(worker)
    worker.set_defaults(run=commands.worker)

    demo = sub.add_parser("demo", help="play a phone against a running stack, step by step")
    demo.add_argument("--base-url", default=f"http://{HOST}:{PORT}",
                      help=f"where the stack answers (default http://{HOST}:{PORT})")
    demo.add_argument("--timeout", type=float, default=60.0, help="seconds per step")
    demo.set_defaults(run=commands.demo)

    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    upgrade = db_sub.add_parser("upgrade", help="apply every migration")
    _data_dir_arg(upgrade)
    upgrade.set_defaults(run=commands.db_upgrade)

    keys = sub.add_parser("keys", help="signing keys")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    rotate = keys_sub.add_parser("rotate", help="advance the key states as the timing allows "
                                 "(idempotent; run it on a schedule)")
    _data_dir_arg(rotate)
    rotate.set_defaults(run=commands.keys_rotate)
    listed = keys_sub.add_parser("list", help="every key with its state")
    _data_dir_arg(listed)
    listed.set_defaults(run=commands.keys_list)
    revoke = keys_sub.add_parser("revoke", help="emergency: stop signing and verifying a key")
    revoke.add_argument("kid", help="the key's id, as `atelier keys list` shows it")
    _data_dir_arg(revoke)
    revoke.set_defaults(run=commands.keys_revoke)

    admin = sub.add_parser("admin", help="local admins of the embedded default")
    admin_sub = admin.add_subparsers(dest="admin_command", required=True)
    create = admin_sub.add_parser(
        "create", help="create a local admin (prompts for the password)")
    create.add_argument("email", help="the admin's e-mail address, their sign-in name")
    create.add_argument("--password-stdin", action="store_true",
                        help="read the password from standard input instead of prompting")
    _data_dir_arg(create)
    create.set_defaults(run=commands.admin_create)

    guests = sub.add_parser("guests", help="guest accounts")
    guests_sub = guests.add_subparsers(dest="guests_command", required=True)
    purge = guests_sub.add_parser("purge", help="delete guests idle past the limit")
    _data_dir_arg(purge)
    purge.set_defaults(run=commands.guests_purge)

    jobs = sub.add_parser("jobs", help="image jobs: the failed and the dead-lettered")
    jobs_sub = jobs.add_subparsers(dest="jobs_command", required=True)
    jobs_list = jobs_sub.add_parser("list", help="jobs in one state, the longest unchanged first")
    jobs_list.add_argument("--failed", action="store_true",
                           help="the failed jobs, each marked redrivable or final")
    jobs_list.add_argument("--status", default="queued",
                           choices=["queued", "generating", "ready", "failed", "deleted"],
                           help="the state to list (default queued: jobs waiting for a worker)")
    jobs_list.add_argument("--limit", type=_positive, default=100,
                           help="at most this many (default 100)")
    _data_dir_arg(jobs_list)
    jobs_list.set_defaults(run=commands.jobs_list)
    redrive = jobs_sub.add_parser(
        "redrive", help="send the dead-lettered and given-up jobs back to the work queue")
    redrive.add_argument("--dry-run", action="store_true",
                         help="say what would be sent back, change nothing")
    redrive.add_argument("--limit", type=_positive, default=1000,
                         help="at most this many jobs (default 1000)")
    _data_dir_arg(redrive)
    redrive.set_defaults(run=commands.jobs_redrive)

    maintenance = sub.add_parser("maintenance", help="housekeeping run on a schedule")
    maintenance_sub = maintenance.add_subparsers(dest="maintenance_command", required=True)
    housekeeping = maintenance_sub.add_parser(
        "run", help="delete, in small batches, rows no rule needs any more")
    _data_dir_arg(housekeeping)
    housekeeping.set_defaults(run=commands.maintenance_run)
    return parser


def _kid_as_operand(argv: Sequence[str]) -> list[str]:
    """A kid is base64url, so one in 64 starts with "-", which argparse reads as an option:
    `keys revoke -WKC...` must revoke that key, not fail with a usage error."""
    args = list(argv)
    if args[:2] != ["keys", "revoke"] or "--" in args:
        return args
    options, operands, rest = [], [], iter(args[2:])
    for arg in rest:
        if arg in ("-h", "--help") or arg.startswith("--data-dir="):
            options.append(arg)
        elif arg == "--data-dir":
            options += [arg, next(rest, "")]
        else:
            operands.append(arg)
    return [*args[:2], *options, "--", *operands]


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    return build_parser().parse_args(_kid_as_operand(argv))


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    run: Callable[[argparse.Namespace], Any] = args.run
    try:
        result = run(args)
        if asyncio.iscoroutine(result):
            result = asyncio.run(result)
    except Exception as error:
        explained = commands.explain(error)
        if explained is None:
            raise
        print(f"atelier: {explained}", file=sys.stderr)
        return 1
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
