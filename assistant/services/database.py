"""Opening a database: the engine and session factory, the tables created, an older database brought up to
date (new columns, the append-only audit log, the hourly reply counts), and the hook that keeps those
counts as each reply is stored.
"""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import Integer, cast, create_engine, delete, event, false, func, inspect, select, update
from sqlalchemy import text as sql
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import sessionmaker

from assistant.services.db import HOUR, Base, Message, ReplyCount

BUSY_TIMEOUT = 15.0  # seconds a SQLite statement waits for another writer's lock before "database is locked"


def make_session_factory(url: str, *, busy_timeout: float = BUSY_TIMEOUT) -> sessionmaker:
    """An engine for `url` with the tables created; SQLite gets WAL and waits `busy_timeout` s for a lock."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": busy_timeout, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()
    else:
        engine = create_engine(url, pool_pre_ping=True)
    counted = inspect(engine).has_table(ReplyCount.__tablename__)
    Base.metadata.create_all(engine)
    _add_new_columns(engine)
    if not counted:
        rebuild_reply_counts(engine)
    _append_only(engine, "audit_log")
    return sessionmaker(engine, expire_on_commit=False)


def _add_new_columns(engine) -> None:
    """Columns and indexes added to a table after its first release are added to an older database too
    (`create_all` makes missing tables only); each column with its default, so old rows stay valid."""
    have = inspect(engine)
    for table in Base.metadata.sorted_tables:
        present = {c["name"] for c in have.get_columns(table.name)}
        with engine.begin() as connection:
            for column in table.columns:
                if column.name not in present:
                    connection.execute(sql(f"ALTER TABLE {table.name} ADD COLUMN {column.name} "
                                           f"{column.type.compile(engine.dialect)}{_default(column)}"))
                if column.index:
                    connection.execute(sql(f"CREATE INDEX IF NOT EXISTS ix_{table.name}_{column.name} "
                                           f"ON {table.name} ({column.name})"))


def _append_only(engine, table: str) -> None:
    """The database itself refuses to change or delete a row of `table` (SQLite triggers, PostgreSQL rules)."""
    with engine.begin() as connection:
        for verb in ("UPDATE", "DELETE"):
            if engine.dialect.name == "sqlite":
                connection.execute(sql(f"CREATE TRIGGER IF NOT EXISTS {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                                       f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"))
            elif engine.dialect.name == "postgresql":
                connection.execute(sql(f"CREATE OR REPLACE RULE {table}_no_{verb.lower()} AS ON {verb} TO {table} "
                                       "DO INSTEAD NOTHING"))


def _default(column) -> str:
    value = column.default.arg if column.default is not None and not callable(column.default.arg) else None
    if value is None:
        return ""
    return f" DEFAULT '{value}'" if isinstance(value, str) else f" DEFAULT {int(value) if isinstance(value, bool) else value}"


@event.listens_for(Message, "after_insert")
def _count_reply(_mapper, connection, reply: Message) -> None:
    """Add a stored reply (not a copy of one) to its hour's count: an upsert on SQLite and PostgreSQL, elsewhere
    an update, then an insert when there was no row. Rows written with raw SQL bypass this: rebuild after."""
    if reply.role != "assistant" or reply.copied:
        return
    key = {"hour": int((reply.created or time.time()) // HOUR), "domain": reply.domain or "",
           "status": reply.status or "", "kind": reply.kind or ""}
    table = ReplyCount.__table__
    if connection.dialect.name in ("sqlite", "postgresql"):
        dialect = sqlite if connection.dialect.name == "sqlite" else postgresql
        connection.execute(dialect.insert(table).values(**key, count=1).on_conflict_do_update(
            index_elements=list(key), set_={"count": table.c.count + 1}))
    elif not connection.execute(update(table).filter_by(**key).values(count=table.c.count + 1)).rowcount:
        connection.execute(table.insert().values(**key, count=1))


def buckets(dialect: str, seconds, size: int):
    """The number of the `size`-second bucket an epoch-seconds SQL expression falls in (hours, days):
    truncation in SQLite (epochs are positive), floor elsewhere."""
    return cast(seconds / size, Integer) if dialect == "sqlite" else cast(func.floor(seconds / size), Integer)


def rebuild_reply_counts(engine) -> None:
    """Count every stored reply again, in one transaction (an older database's first start; after a bulk load)."""
    key = (buckets(engine.dialect.name, Message.created, HOUR), Message.domain, Message.status, Message.kind)
    counted = (select(*key, func.count()).where(Message.role == "assistant", Message.copied == false())
               .group_by(*key))
    with engine.begin() as connection:
        connection.execute(delete(ReplyCount))
        connection.execute(ReplyCount.__table__.insert().from_select(["hour", "domain", "status", "kind", "count"],
                                                                     counted))
