"""`segmentation-service`: set up the store, load data, serve the SOAP service.

Only the standard library and the settings load before a command runs: each
command imports what it needs (pandas, scikit-learn, spyne, SQLAlchemy), so
``--help``, ``config`` and argument errors answer at once.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import sys
import time
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from segmentation_service.config import (
    CONFIG_ENV,
    DEFAULT_SECRET_KEY_FILE,
    ConfigError,
    LoadedSettings,
    Settings,
    load_settings,
)
from segmentation_service.domain.roles import ROLES
from segmentation_service.observability.logs import configure_logging

if TYPE_CHECKING:
    from segmentation_service.store.database import Store
    from segmentation_service.store.secret_key import PasswordCipher
    from segmentation_service.store.uow import UnitOfWork

logger = logging.getLogger("segmentation_service")
SERVER_FLAGS = ("host", "port", "workers", "public_url")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        args.loaded_settings = load_settings(
            config_file=args.config,
            database_url=args.database_url,
            **{k: getattr(args, k, None) for k in SERVER_FLAGS},
        )
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    settings = args.loaded_settings.settings
    configure_logging(settings.log_level, settings.log_format)
    result: int = args.handler(args, settings)
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="segmentation-service", description="Customer segmentation SOAP service."
    )
    parser.add_argument(
        "--database-url",
        help="SQLAlchemy URL of the store (env SEGMENTATION_DATABASE_URL; "
        "default sqlite:///var/segmentation.db)",
    )
    parser.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help=f"TOML file of settings (env {CONFIG_ENV}); environment variables and flags "
        "override it",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    init = commands.add_parser("init-db", help="create the store's tables")
    init.set_defaults(handler=_init_db)

    demo = commands.add_parser("load-demo", help="fill the store with generated demo data")
    demo.add_argument("--customers", type=_positive, default=2000, help="default: 2000")
    demo.add_argument("--seed", type=int, default=0, help="default: 0")
    demo.add_argument(
        "--end-date",
        type=date.fromisoformat,
        default=None,
        help="last day of the generated history (default: today)",
    )
    demo.add_argument(
        "--if-empty", action="store_true", help="do nothing when the store already holds customers"
    )
    _add_quiet(demo)
    demo.set_defaults(handler=_load_demo)

    load = commands.add_parser(
        "import",
        help="import CSV files (any subset of the three)",
        description="Each file is read in full first: one that does not decode in --encoding "
        "is refused before anything is written.",
    )
    load.add_argument("--customers", type=Path, metavar="FILE")
    load.add_argument("--transactions", type=Path, metavar="FILE")
    load.add_argument("--needs", type=Path, metavar="FILE")
    load.add_argument(
        "--encoding",
        metavar="NAME",
        help="text encoding of the files, e.g. cp1252 as Excel saves on Windows "
        "(default utf-8, with or without a byte order mark)",
    )
    load.add_argument(
        "--delimiter",
        type=_delimiter,
        metavar="CHAR",
        help="field separator, e.g. ';' or tab (default: of , ; tab |, the one found most "
        "often in each file's header line)",
    )
    _add_quiet(load)
    load.set_defaults(handler=_import)

    serve = commands.add_parser("serve", help="serve the SOAP service with worker processes")
    serve.add_argument("--host", help="default 127.0.0.1 (env SEGMENTATION_HOST)")
    serve.add_argument("--port", type=int, help="default 8000 (env SEGMENTATION_PORT)")
    serve.add_argument("--workers", type=_positive, help="worker processes (default 2)")
    serve.add_argument("--public-url", help="address written into the served WSDL")
    serve.add_argument(
        "--socket-fd",
        type=int,
        help="serve on an inherited, already bound socket (socket activation)",
    )
    serve.add_argument(
        "--no-worker",
        action="store_true",
        help="start no run worker beside the SOAP workers (run `worker` elsewhere; "
        "env SEGMENTATION_RUN_WORKER=off)",
    )
    serve.set_defaults(handler=_serve)

    worker = commands.add_parser(
        "worker",
        help="execute queued segmentation runs (run several, on several machines)",
        description="A huey consumer: each of --concurrency processes executes one run at a "
        "time; every minute it retries or fails runs whose worker died and submits due "
        "schedules.",
    )
    worker.add_argument("--concurrency", type=_positive, default=1, help="runs at once (default 1)")
    worker.add_argument(
        "--nice",
        type=int,
        choices=range(20),
        default=10,
        metavar="0-19",
        help="lower CPU priority of the run processes, so SOAP workers on the same machine "
        "answer first (default 10; 0 keeps it)",
    )
    worker.set_defaults(handler=_worker)

    _add_users_parser(commands)
    _add_config_parser(commands)
    return parser


def _add_quiet(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="no progress bar (there is none either when standard error is not a terminal)",
    )


def _add_config_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    config = commands.add_parser(
        "config",
        help="print the effective settings (secrets masked) and where each came from",
        description="Each setting comes from its default, the TOML file (--config or "
        f"{CONFIG_ENV}), a SEGMENTATION_* environment variable or a flag; later ones win. "
        "The serve flags may be given to see what serve would use with them.",
    )
    config.add_argument("--host")
    config.add_argument("--port", type=int)
    config.add_argument("--workers", type=_positive)
    config.add_argument("--public-url")
    config.set_defaults(handler=_config)


def _add_users_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    users = commands.add_parser("users", help="manage who may call the service, in which role")
    actions = users.add_subparsers(dest="users_command", required=True, metavar="ACTION")
    roles = f"one of {', '.join(ROLES)}"

    add = actions.add_parser(
        "add",
        help="add a user",
        description="The password is read from standard input: one line when it is not a "
        "terminal, else a hidden prompt, twice.",
    )
    add.add_argument("username", metavar="USERNAME")
    add.add_argument("--role", required=True, choices=ROLES, metavar="ROLE", help=roles)
    add.set_defaults(handler=_users_add)

    listing = actions.add_parser("list", help="list users with their roles (never secrets)")
    listing.set_defaults(handler=_users_list)

    remove = actions.add_parser("remove", help="remove a user")
    remove.add_argument("username", metavar="USERNAME")
    remove.set_defaults(handler=_users_remove)

    set_role = actions.add_parser("set-role", help="change a user's role")
    set_role.add_argument("username", metavar="USERNAME")
    set_role.add_argument("role", choices=ROLES, metavar="ROLE", help=roles)
    set_role.set_defaults(handler=_users_set_role)


def _delimiter(text: str) -> str:
    """``tab`` or ``\\t`` (as typed in a shell) for a tab; import checks the character."""
    return "\t" if text in ("tab", "\\t") else text


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _store(settings: Settings) -> Store:
    from segmentation_service.store.database import Store

    settings.ensure_sqlite_directory()
    store = Store(settings.database_url)
    store.create_schema()
    return store


def _init_db(_args: argparse.Namespace, settings: Settings) -> int:
    _store(settings)
    print(f"store ready: {settings.database_url}")
    return 0


def _load_demo(args: argparse.Namespace, settings: Settings) -> int:
    from segmentation_service.demo_data import generate_demo_data
    from segmentation_service.observability.progress import RowProgress
    from segmentation_service.services.importing import BATCH_SIZE, load_frame

    store = _store(settings)
    with store.unit_of_work() as uow:
        existing = uow.customers.count()
    if args.if_empty and existing:
        print(f"store already holds {existing} customers; demo data not loaded")
        return 0
    started = time.perf_counter()
    loaded: dict[str, int] = {}
    with RowProgress.for_stream(sys.stderr, args.quiet) as progress:
        with progress.phase("generating"):
            end_date = args.end_date or date.today()
            data = generate_demo_data(args.customers, args.seed, end_date=end_date)
        for kind, frame in (
            ("customers", data.customers),
            ("transactions", data.transactions),
            ("needs", data.needs),
        ):
            progress.start(kind, len(frame))
            loaded[kind] = 0
            for first in range(0, len(frame), BATCH_SIZE):  # one bar step per batch
                count = load_frame(
                    store.unit_of_work(), kind, frame.iloc[first : first + BATCH_SIZE]
                )
                loaded[kind] += count
                progress.advance(kind, count)
            progress.finish(kind)
    print(_summary(loaded, 0, time.perf_counter() - started))
    return 0


def _import(args: argparse.Namespace, settings: Settings) -> int:
    from segmentation_service.observability.progress import RowProgress
    from segmentation_service.services.csv_files import CsvFileError, check_file
    from segmentation_service.services.importing import import_files

    paths = {"customers": args.customers, "transactions": args.transactions, "needs": args.needs}
    if not any(paths.values()):
        print("error: give at least one of --customers, --transactions, --needs", file=sys.stderr)
        return 2
    try:  # every file decodes in full before anything is written
        files = {
            kind: check_file(path, args.encoding, args.delimiter)
            for kind, path in paths.items()
            if path is not None
        }
    except CsvFileError as error:
        print(f"error: {error}; nothing was imported", file=sys.stderr)
        if error.hint:
            print(f"hint: {error.hint}", file=sys.stderr)
        return 2
    store = _store(settings)
    started = time.perf_counter()
    with RowProgress.for_stream(sys.stderr, args.quiet) as progress:
        for kind, csv_file in files.items():
            progress.start(kind, csv_file.data_lines)
        report = import_files(store.unit_of_work(), files, progress=progress.advance)
        for kind in files:
            progress.finish(kind)
    for rejected in report.rejected:
        print(f"rejected {rejected}", file=sys.stderr)
    print(_summary(report.loaded, len(report.rejected), time.perf_counter() - started))
    return 1 if report.rejected else 0


def _summary(loaded: dict[str, int], rejected: int, seconds: float) -> str:
    """The one line that ends import and load-demo."""
    counts = ", ".join(f"{count} {kind}" for kind, count in loaded.items()) or "nothing"
    return f"loaded {counts}; rejected {rejected} rows in {seconds:.1f} s"


def _config(args: argparse.Namespace, _settings: Settings) -> int:
    loaded: LoadedSettings = args.loaded_settings
    print(f"config file: {loaded.config_file or f'none (--config FILE or {CONFIG_ENV})'}")
    rows = [("setting", "value", "source"), *loaded.describe()]
    name_width, value_width = (max(len(row[column]) for row in rows) for column in (0, 1))
    for name, value, source in rows:
        print(f"{name:<{name_width}}  {value:<{value_width}}  {source}".rstrip())
    return 0


def _cipher(settings: Settings) -> PasswordCipher:
    from segmentation_service.store.secret_key import PasswordCipher

    return PasswordCipher.from_settings(settings.secret_key, Path(DEFAULT_SECRET_KEY_FILE))


def _read_password() -> str:
    """One line of standard input, or (on a terminal) a hidden prompt answered twice alike."""
    from segmentation_service.services.auth import UserAdministrationError

    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    password = getpass.getpass("Password: ")
    if getpass.getpass("Repeat the password: ") != password:
        raise UserAdministrationError("the two passwords differ; nothing was changed")
    return password


def _users_add(args: argparse.Namespace, settings: Settings) -> int:
    from segmentation_service.services.auth import add_user

    def add(uow: UnitOfWork) -> str:
        password = _read_password()
        user = add_user(args.username, args.role, password, _cipher(settings), uow)
        return f"added {user.username} ({user.role})"

    return _user_command(settings, add)


def _users_list(_args: argparse.Namespace, settings: Settings) -> int:
    from segmentation_service.services.auth import list_users

    def listing(uow: UnitOfWork) -> str:
        users = list_users(uow)
        if not users:
            return "no users yet; add one with: segmentation-service users add USERNAME --role ROLE"
        rows = [("username", "role", "created")]
        rows += [(u.username, u.role, u.created_at.isoformat(timespec="seconds")) for u in users]
        name_width, role_width = (max(len(row[column]) for row in rows) for column in (0, 1))
        return "\n".join(f"{n:<{name_width}}  {r:<{role_width}}  {c}" for n, r, c in rows)

    return _user_command(settings, listing)


def _users_remove(args: argparse.Namespace, settings: Settings) -> int:
    from segmentation_service.services.auth import remove_user

    def remove(uow: UnitOfWork) -> str:
        remove_user(args.username, uow)
        return f"removed {args.username}"

    return _user_command(settings, remove)


def _users_set_role(args: argparse.Namespace, settings: Settings) -> int:
    from segmentation_service.services.auth import set_role

    def change(uow: UnitOfWork) -> str:
        set_role(args.username, args.role, uow)
        return f"{args.username} is now {args.role}"

    return _user_command(settings, change)


def _user_command(settings: Settings, command: Callable[[UnitOfWork], str]) -> int:
    """Print what ``command`` did, or its error on stderr with exit status 1."""
    from segmentation_service.services.auth import UserAdministrationError
    from segmentation_service.store.secret_key import SecretKeyError

    store = _store(settings)
    try:
        print(command(store.unit_of_work()))
    except (UserAdministrationError, SecretKeyError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    finally:
        store.dispose()
    return 0


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from segmentation_service.jobs.worker import start_run_worker, stop_run_worker
    from segmentation_service.server import serve
    from segmentation_service.services.liveness import fail_interrupted_runs
    from segmentation_service.store.secret_key import SecretKeyError

    store = _store(settings)
    fail_interrupted_runs(store.unit_of_work())  # runs of a server that stopped mid-run
    store.dispose()
    if settings.auth:
        try:  # creates the key file before the workers start, and fails early on a bad key
            _cipher(settings)
        except SecretKeyError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
    worker = None
    if settings.run_worker and not args.no_worker:
        config = ["--config", str(args.config)] if args.config else []
        worker = start_run_worker(
            settings, [sys.executable, "-m", "segmentation_service.cli", *config]
        )
    try:
        serve(settings, socket_fd=args.socket_fd)
    finally:
        if worker is not None:
            stop_run_worker(worker)
    return 0


def _worker(args: argparse.Namespace, settings: Settings) -> int:
    from segmentation_service.jobs.worker import run_worker

    _store(settings).dispose()  # the schema is current before the first run
    return run_worker(settings, args.concurrency, args.nice)


if __name__ == "__main__":
    raise SystemExit(main())
