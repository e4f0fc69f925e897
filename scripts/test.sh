#!/usr/bin/env bash
# Command 2: the test suite.
#
#   bash scripts/test.sh [pytest args]
#
# Creates .venv, installs requirements-dev.txt and runs pytest. Without DATABASE_URL /
# REDIS_URL it runs on SQLite with no services (tests that need PostgreSQL or Redis skip and
# say why); with them set (as .ci/run does) it runs on PostgreSQL and Redis.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/_venv.sh
. scripts/_venv.sh

ensure_venv requirements-dev.txt
# pytest.ini (pyproject.toml) names the test settings; an exported DJANGO_SETTINGS_MODULE
# (e.g. mall.settings.prod in a deploy shell) would win over it, so drop it here.
unset DJANGO_SETTINGS_MODULE
# The translation catalogues are compiled by the test session (tests/conftest.py): GNU
# gettext's msgfmt where installed, else polib (pure Python).
echo "==> pytest (database: $([ -n "${DATABASE_URL:-}" ] && echo DATABASE_URL || echo SQLite)," \
    "redis: $([ -n "${REDIS_URL:-}" ] && echo REDIS_URL || echo none))"
exec .venv/bin/python -m pytest "$@"
