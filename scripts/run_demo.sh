#!/usr/bin/env bash
# Runs the product with demo data: migrate, roles, demo plant, then the web server, the Celery
# worker and Celery beat side by side. Ctrl-C stops all three.
# Embedded by default (SQLite + a filesystem broker); DATABASE_URL / REDIS_URL switch to
# PostgreSQL / Redis.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
export DJANGO_SETTINGS_MODULE=${DJANGO_SETTINGS_MODULE:-mesproject.settings.base}
# The demo's ERP is the simulator in the repository (integration/demo/erp_simulator.py): the
# outbox really delivers to it, signed. Its record: http://127.0.0.1:$ERP_PORT/control/messages
ERP_PORT=${ERP_PORT:-8765}
export MES_ERP_ENDPOINT_URL=${MES_ERP_ENDPOINT_URL:-http://127.0.0.1:$ERP_PORT/api/messages}
export MES_ERP_SIGNING_SECRETS=${MES_ERP_SIGNING_SECRETS:-demo-erp-secret}

$BIN/python manage.py migrate --no-input -v 0
$BIN/python manage.py setup_roles
$BIN/python manage.py seed_demo
$BIN/python manage.py collectstatic --no-input -v 0

pids=()
stop() {
  trap - INT TERM EXIT
  kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

$BIN/python manage.py erp_simulator --port "$ERP_PORT" --quiet &
pids+=($!)
# One worker process is enough for the demo; SQLite serializes writers anyway.
$BIN/celery -A mesproject worker --pool=solo --loglevel=INFO &
pids+=($!)
$BIN/celery -A mesproject beat --loglevel=INFO &
pids+=($!)
$BIN/gunicorn mesproject.wsgi --bind "$HOST:$PORT" --workers 2 --access-logfile - &
pids+=($!)

cat <<MSG

  MES back office is running: http://$HOST:$PORT/  (admin: http://$HOST:$PORT/admin/)
  API docs: http://$HOST:$PORT/api/docs/   health: http://$HOST:$PORT/healthz
  ERP simulator (what the MES reported): http://127.0.0.1:$ERP_PORT/control/messages
  Demo logins (password demo-mes-2026): planner, supervisor, it, operator (a terminal), admin
  Workers at a terminal: badges 1001-1008, each PIN the same as the badge
  Stop with Ctrl-C.

MSG
wait -n "${pids[@]}"
