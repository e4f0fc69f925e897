#!/bin/sh
# docker compose: run once by the postgres image on an empty data directory.
# Creates the roles mall_owner (owns and migrates) and mall_app (the application) and the
# database mall (scripts/db_roles.sql).
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -v dbname=mall \
    -v owner_password="$MALL_OWNER_DB_PASSWORD" \
    -v app_password="$MALL_APP_DB_PASSWORD" \
    -f /mall/db_roles.sql
