"""The deployment files hold what the README's Operations section says of them (no Docker in the test run: the
files are read, not run)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    return loaded["services"]


def test_the_image_holds_everything_merchflow_reads_when_it_runs() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    copied = {src.rstrip("/") for line in re.findall(r"^COPY (.+)$", dockerfile, re.M) for src in line.split()[:-1]}
    # the packages, the SQL the query loader and the migration runner read, and what pip needs to install them
    assert {"pyproject.toml", "README.md", "api", "domain", "sql"} <= copied
    ignored = {line.strip().rstrip("/") for line in (ROOT / ".dockerignore").read_text().splitlines()}
    assert not ignored & {"api", "domain", "sql", "README.md", "pyproject.toml"}
    assert re.search(r"^USER (?!root)\w+", dockerfile, re.M), "the image runs as an unprivileged user"


def test_compose_migrates_before_the_api_starts_against_the_database_it_runs() -> None:
    services = compose()
    db, migrate, api = services["db"], services["migrate"], services["api"]
    env = db["environment"]
    url = f"postgresql://{env['POSTGRES_USER']}:{env['POSTGRES_PASSWORD']}@db:5432/{env['POSTGRES_DB']}"
    assert migrate["environment"]["DATABASE_URL"] == url
    assert api["environment"]["DATABASE_URL"] == url
    assert migrate["command"] == ["merch", "migrate"]
    assert migrate["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert api["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}
    assert "/readyz" in " ".join(api["healthcheck"]["test"])
    assert api["ports"] == ["127.0.0.1:8000:8000"]
    assert db["restart"] == api["restart"] == "unless-stopped"


def test_compose_keeps_the_postgresql_18_cluster_in_its_named_volume() -> None:
    db = compose()["db"]
    assert db["image"] == "postgres:18"
    # PostgreSQL 18 images keep PGDATA in /var/lib/postgresql/18/docker: a volume at the old .../data misses it
    assert db["volumes"][0] == "pgdata:/var/lib/postgresql"


def test_compose_runs_a_streaming_replica_of_the_same_image_that_the_api_reads_from() -> None:
    services = compose()
    db, replica, api = services["db"], services["db-replica"], services["api"]
    assert replica["image"] == db["image"]
    assert replica["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert replica["volumes"] == ["replica-pgdata:/var/lib/postgresql"]  # its own cluster, not the primary's
    assert replica["environment"]["PGDATA"] == "/var/lib/postgresql/18/docker"
    script = replica["command"][-1]
    # filled once from the primary as its standby (standby.signal, primary_conninfo), then run as one
    assert 'pg_basebackup -h db -U replicator -D "$$PGDATA" -R -X stream' in script
    assert 'if [ ! -s "$$PGDATA/PG_VERSION" ]' in script
    assert script.strip().splitlines()[-1].startswith('exec postgres -D "$$PGDATA"')
    assert replica["environment"]["PGPASSWORD"] == db["environment"]["REPLICATION_PASSWORD"]
    # the primary lets the replication role stream (run by the image when its volume is initialised)
    init = (ROOT / "deploy" / "primary-replication.sh").read_text(encoding="utf-8")
    mount = "./deploy/primary-replication.sh:/docker-entrypoint-initdb.d/primary-replication.sh:ro"
    assert mount in db["volumes"]
    assert "CREATE ROLE replicator WITH REPLICATION LOGIN" in init
    assert "host replication replicator all scram-sha-256" in init
    env = db["environment"]
    url = f"postgresql://{env['POSTGRES_USER']}:{env['POSTGRES_PASSWORD']}@db-replica:5432/{env['POSTGRES_DB']}"
    assert api["environment"]["MERCH_READ_DATABASE_URLS"] == url
