#!/usr/bin/env bash
# Runs once, when the PostgreSQL container initialises an empty data volume
# (mounted into /docker-entrypoint-initdb.d/ by deploy/compose.yaml).
# One login role and one database per service, each database owned by its
# role and closed to everyone else: a service can reach only its own data.
# Passwords come from <SERVICE>_DB_PASSWORD (deploy/.env).
set -euo pipefail

for service in provider_registry referrals awards tracking notifications; do
  var="${service^^}_DB_PASSWORD"
  password="${!var:-}"
  if [ -z "$password" ]; then
    echo "init-databases: $var is not set" >&2
    exit 1
  fi
  # psql variables (:"name" quotes an identifier, :'pw' a literal): no SQL built by hand
  psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname postgres \
       -v name="$service" -v pw="$password" <<'SQL'
CREATE ROLE :"name" LOGIN PASSWORD :'pw';
CREATE DATABASE :"name" OWNER :"name";
REVOKE ALL ON DATABASE :"name" FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE :"name" TO :"name";
SQL
  echo "init-databases: created role and database $service"
done
