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
    assert db["volumes"] == ["pgdata:/var/lib/postgresql"]
