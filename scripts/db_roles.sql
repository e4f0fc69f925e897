-- The two database roles and the database (PostgreSQL 13+), idempotent. Run as a superuser:
--
--   psql -h HOST -U postgres -v ON_ERROR_STOP=1 -v dbname=mall \
--       -v owner_password=... -v app_password=... -f scripts/db_roles.sql
--
-- mall_owner owns the database, the schema and every table: `manage.py migrate` runs as it.
-- mall_app is what the web processes, workers and beat connect as: not a superuser, no
-- BYPASSRLS, owns nothing, may only read and write rows, so the row-level security policies
-- of the tenant-owned tables (mall/tenancy/rls.py) hold for it. Optional variables: owner, app.
\if :{?owner}
\else
\set owner mall_owner
\endif
\if :{?app}
\else
\set app mall_app
\endif

SELECT format('CREATE ROLE %I LOGIN', :'owner')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'owner') \gexec
SELECT format('CREATE ROLE %I LOGIN', :'app')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'app') \gexec
ALTER ROLE :"owner" LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE PASSWORD :'owner_password';
ALTER ROLE :"app" LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB NOINHERIT
    PASSWORD :'app_password';

SELECT format('CREATE DATABASE %I OWNER %I', :'dbname', :'owner')
WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'dbname') \gexec
SELECT format('ALTER DATABASE %I OWNER TO %I', :'dbname', :'owner') \gexec

\connect :"dbname"
ALTER SCHEMA public OWNER TO :"owner";
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO :"app";
-- Tables that exist already (a database migrated before this script) ...
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO :"app";
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO :"app";
-- ... and every table and sequence the owner's migrations create from now on.
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"app";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO :"app";
