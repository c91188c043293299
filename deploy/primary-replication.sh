#!/bin/sh
# Run once by the postgres image when the primary's volume is first initialised (docker-entrypoint-initdb.d):
# a role that standbys stream as, and the pg_hba line that lets it (a replication connection matches no
# "all" line). An existing volume never runs it: see the README's "Scaling out".
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v password="$REPLICATION_PASSWORD" <<'SQL'
CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD :'password';
SQL
echo "host replication replicator all scram-sha-256" >> "$PGDATA/pg_hba.conf"
