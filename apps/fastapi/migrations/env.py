"""Alembic environment: migrations read only DATABASE_URL (from SECRETS_DIR or the environment, as
the app does), so a migration Job needs no other secret."""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy import create_engine, pool

from app.config import DatabaseSettings, load_settings
from app.db import Base

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name)

target_metadata = Base.metadata


def database_url() -> str:
    return load_settings(DatabaseSettings).sync_database_url


def run_migrations_offline() -> None:
    context.configure(url=database_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = create_engine(database_url(), poolclass=pool.NullPool, connect_args={"connect_timeout": 10})
    with engine.connect() as connection:
        # Several replicas may start a migration Job at once; the advisory lock serialises them.
        connection.exec_driver_sql("SELECT pg_advisory_lock(727001)")
        try:
            context.configure(connection=connection, target_metadata=target_metadata)
            with context.begin_transaction():
                context.run_migrations()
        except BaseException:
            # A failed step leaves the transaction aborted, where the unlock below would fail too
            # and its error would end the log in place of the migration's own. The session-level
            # lock survives the rollback.
            connection.rollback()
            raise
        finally:
            connection.exec_driver_sql("SELECT pg_advisory_unlock(727001)")
            connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
