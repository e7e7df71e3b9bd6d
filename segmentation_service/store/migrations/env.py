"""The ``alembic`` command's environment, for developers writing revisions.

The service never reads this file: ``segmentation_service.store.migrations.upgrade``
runs the same revisions in-process, with locking and the adoption of databases
made before Alembic. The database here is ``-x url=...``, else
``SEGMENTATION_DATABASE_URL``, else ``sqlalchemy.url`` from alembic.ini.
"""

from __future__ import annotations

import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy import create_engine, pool

from segmentation_service.store.migrations import context_options

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def database_url() -> str:
    url = (
        context.get_x_argument(as_dictionary=True).get("url")
        or os.environ.get("SEGMENTATION_DATABASE_URL")
        or config.get_main_option("sqlalchemy.url")
    )
    if not url:
        raise RuntimeError("no database: pass -x url=... or set SEGMENTATION_DATABASE_URL")
    return url


def run_migrations_offline() -> None:
    context.configure(url=database_url(), literal_binds=True, **context_options())
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    # SQLite's foreign keys stay off (its default) on this engine's connections,
    # so batch migrations can recreate referenced tables.
    engine = create_engine(database_url(), poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, **context_options())
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
