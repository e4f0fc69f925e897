#!/usr/bin/env bash
# Command 1: the demo shop on a bare machine (Python 3.11 + pip + git; no PostgreSQL or Redis).
#
#   bash scripts/demo.sh            # http://127.0.0.1:8000/  (PORT=9000 bash scripts/demo.sh)
#
# Creates .venv, installs requirements.txt, migrates (SQLite and eager Celery unless
# DATABASE_URL / REDIS_URL are set, e.g. in .env), seeds the demo shop (idempotent: safe to
# re-run), collects static files and starts the development server.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/_venv.sh
. scripts/_venv.sh

export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-mall.settings.dev}"
HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8000}"

ensure_venv requirements.txt
echo "==> migrating"
.venv/bin/python manage.py migrate --noinput
echo "==> seeding the demo shop"
.venv/bin/python manage.py seed_demo
echo "==> compiling translations (Simplified Chinese)"
.venv/bin/python manage.py compile_catalogues >/dev/null
echo "==> collecting static files"
.venv/bin/python manage.py collectstatic --noinput --verbosity 0
echo "==> serving on http://$HOST:$PORT/  (API docs: http://$HOST:$PORT/api/docs/)"
exec .venv/bin/python manage.py runserver "$HOST:$PORT"
