"""The bench databases: drop, create, copy as a template, and every table's row count and
highest primary key.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from urllib.parse import urlparse, urlunparse


def _admin(url: str):
    import psycopg

    parsed = urlparse(url)
    return psycopg.connect(urlunparse(parsed._replace(path="/postgres")), autocommit=True)


def database_name(url: str) -> str:
    name = urlparse(url).path.lstrip("/")
    if not name.startswith("mes_bench"):
        sys.exit(f"refusing to drop {name!r}: the bench database name must start with mes_bench")
    return name


def recreate_database(url: str, *, template: str | None = None) -> None:
    """Drop the bench database and create it again, empty or as a copy of `template`."""
    from psycopg import sql

    name = database_name(url)
    with _admin(url) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        if template:
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(name), sql.Identifier(template)
                )
            )
        else:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def copy_as_template(url: str, template: str) -> None:
    from psycopg import sql

    with _admin(url) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(template))
        )
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(template), sql.Identifier(database_name(url))
            )
        )


def drop_database(url: str, name: str) -> None:
    from psycopg import sql

    with _admin(url) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@dataclass
class TableState:
    count: int
    max_pk: int | None
    pk: str | None


def table_states(url: str) -> dict[str, TableState]:
    """Row count and highest primary key of every table (single integer primary keys)."""
    import psycopg

    states = {}
    with psycopg.connect(url) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
            )
        ]
        for table in tables:
            pk_rows = conn.execute(
                """
                SELECT a.attname, format_type(a.atttypid, a.atttypmod)
                FROM pg_index i
                JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
                WHERE i.indrelid = %s::regclass AND i.indisprimary
                """,
                [f'"{table}"'],
            ).fetchall()
            pk = (
                pk_rows[0][0]
                if len(pk_rows) == 1 and pk_rows[0][1] in ("bigint", "integer")
                else None
            )
            if pk:
                count, max_pk = conn.execute(
                    f'SELECT count(*), max("{pk}") FROM "{table}"'
                ).fetchone()
            else:
                count, max_pk = conn.execute(f'SELECT count(*), NULL FROM "{table}"').fetchone()
            states[table] = TableState(count, max_pk, pk)
    return states
