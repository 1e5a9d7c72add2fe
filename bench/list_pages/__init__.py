"""The SQL queries one GET of each list page runs, at --small and at --large rows listed.

    .venv/bin/python bench/list_pages.py [--small 10] [--large 5000]
        [--database-url postgres://postgres@127.0.0.1:5432/mes_bench_pages]
        [--redis-url redis://127.0.0.1:6379/7]
    quick: .venv/bin/python bench/list_pages.py --large 500

The approach of tests/pages/ (assert_constant_queries), at the bench's sizes and on
PostgreSQL: drops and recreates the database named in --database-url (it must start with
"mes_bench"), migrates it and sets up the roles; then, for each page, in a transaction that
is rolled back afterwards (every page starts from the same empty database, as a test does):
the plant the page's query-count test builds (tests.execution.floor.make_floor,
tests.factories), a signed-in user of the role that works there (Django test client), then
add_rows(--small) (the rows the page lists, bulk-inserted the way its test adds them: how a
row was made does not change what reading it costs), one GET counted with
CaptureQueriesContext (the whole middleware stack: session, user, permissions, header),
add_rows(--large - --small), ANALYZE (the planner's statistics of what is there, as in use),
the same GET counted again. A streamed answer (the CSV export)
is read to its end inside the count.

The ratio is count at --large / count at --small: 1.0 for every page, or the page runs a
query per row somewhere. Prints a JSON line with the counts last.

The modules: main (the pages measured, the count of one GET, the command line and the run),
users (the Page, its signed-in user, a light floor), planner, floor and office (each page's
setup and the rows it lists).
"""
