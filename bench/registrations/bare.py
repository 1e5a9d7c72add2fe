"""The baseline: the rows processing inserted, inserted bare into scratch copies of their
tables.
"""

from __future__ import annotations

import time

from .cost import process_cpu_seconds


def bare_inserts(url: str, before: dict, after: dict) -> dict:
    """Read back the rows processing inserted and insert them bare into scratch copies."""
    import psycopg
    from psycopg.types.json import Jsonb

    grown = {
        t: after[t].count - before[t].count
        for t in after
        if t in before and after[t].count > before[t].count
    }
    data = {}
    with psycopg.connect(url) as conn:
        for table in grown:
            state = before[table]
            if state.pk is None:
                print(f"    (skipped {table}: no integer primary key)")
                continue
            cursor = conn.execute(
                f'SELECT * FROM "{table}" WHERE "{state.pk}" > %s ORDER BY "{state.pk}"',
                [state.max_pk or 0],
            )
            columns = [d.name for d in cursor.description]
            json_columns = [
                i for i, d in enumerate(cursor.description) if d.type_code in (114, 3802)
            ]
            rows = cursor.fetchall()
            if json_columns:
                rows = [
                    tuple(
                        Jsonb(v) if i in json_columns and v is not None else v
                        for i, v in enumerate(r)
                    )
                    for r in rows
                ]
            data[table] = (columns, rows)
        conn.commit()
        names = {table: f"bench_bare_{i}" for i, table in enumerate(data)}
        for table, name in names.items():
            conn.execute(f'DROP TABLE IF EXISTS "{name}_copy", "{name}_insert"')
            conn.execute(f'CREATE TABLE "{name}_copy" (LIKE "{table}" INCLUDING DEFAULTS)')
            conn.execute(f'CREATE TABLE "{name}_insert" (LIKE "{table}" INCLUDING ALL)')
        conn.commit()

        started = time.perf_counter()
        with conn.cursor() as cursor:
            for table, (columns, rows) in data.items():
                column_list = ", ".join(f'"{c}"' for c in columns)
                copy_sql = f'COPY "{names[table]}_copy" ({column_list}) FROM STDIN'
                with cursor.copy(copy_sql) as copy:
                    for row in rows:
                        copy.write_row(row)
        conn.commit()
        copy_seconds = time.perf_counter() - started

        backend = conn.info.backend_pid
        started, cpu = time.perf_counter(), time.process_time()
        backend_cpu = process_cpu_seconds(backend)
        with conn.cursor() as cursor:
            for table, (columns, rows) in data.items():
                column_list = ", ".join(f'"{c}"' for c in columns)
                values = ", ".join(["%s"] * len(columns))
                cursor.executemany(
                    f'INSERT INTO "{names[table]}_insert" ({column_list}) VALUES ({values})', rows
                )
        conn.commit()
        insert_seconds = time.perf_counter() - started
        # The baseline's cost: this process (psycopg) and its backend, as for the processors.
        insert_cpu = time.process_time() - cpu
        backend_after = process_cpu_seconds(backend)
        insert_backend_cpu = (
            None if backend_cpu is None or backend_after is None else backend_after - backend_cpu
        )
        for name in names.values():
            conn.execute(f'DROP TABLE "{name}_copy", "{name}_insert"')
        conn.commit()
    return {
        "rows": {t: len(rows) for t, (_c, rows) in data.items()},
        "copy_seconds": copy_seconds,
        "insert_seconds": insert_seconds,
        "insert_cpu_seconds": insert_cpu,
        "insert_backend_cpu_seconds": insert_backend_cpu,
    }
