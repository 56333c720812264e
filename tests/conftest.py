"""Shared fixtures. Tests that need ../shared/data or a PostgreSQL server skip on a user's machine
without them, but FAIL when CI=true, so that CI never passes by skipping.

App-state backends, the way Splink parametrises its tests over backends: a test module marked
`pytestmark = pytest.mark.backends` runs each of its tests once on SQLite and once on PostgreSQL
(the `backend` fixture), and every workspace it makes gets a database of its own (a fresh schema
in the server's `test` database), so test runs never collide.
"""
from __future__ import annotations

import gzip
import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from vrp.workspace import init_workspace

SHARED_DATA = Path(os.environ.get("VRP_SHARED_DATA", Path(__file__).resolve().parents[1] / ".." / "shared" / "data")).resolve()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but the shared data folder {SHARED_DATA} is missing")
        pytest.skip(f"shared data not found at {SHARED_DATA} (set VRP_SHARED_DATA)")
    return SHARED_DATA


ON_CI = os.environ.get("CI", "").lower() == "true"
# The project's machines run PostgreSQL on 127.0.0.1:5432 with trust authentication (.ci/run starts it).
POSTGRES_URL = os.environ.get("VRP_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BACKENDS = ["sqlite", "postgresql"]
_schemas: list[str] = []
_postgres_problem: list[str] = []


def pytest_generate_tests(metafunc):
    if "backend" in metafunc.fixturenames and metafunc.definition.get_closest_marker("backends"):
        metafunc.parametrize("backend", BACKENDS, indirect=True, scope="module")


@pytest.fixture(scope="module")
def backend(request) -> str:
    name = getattr(request, "param", "sqlite")
    if name == "postgresql":
        problem = postgres_problem()
        if problem:
            if ON_CI:
                pytest.fail(f"CI=true but PostgreSQL is not reachable at {POSTGRES_URL}: {problem}")
            pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL} ({problem}; set VRP_TEST_POSTGRES_URL)")
    return name


def postgres_problem() -> str | None:
    if not _postgres_problem:
        try:
            engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            engine.dispose()
            _postgres_problem.append("")
        except Exception as exc:  # any failure to connect means: no server for these tests
            _postgres_problem.append(str(exc).splitlines()[0])
    return _postgres_problem[0] or None


def new_database(backend: str) -> str | None:
    """A database nobody else uses: None (the workspace's own SQLite file) or a fresh PostgreSQL schema."""
    if backend == "sqlite":
        return None
    schema = f"vrp_test_{uuid.uuid4().hex[:12]}"
    engine = create_engine(POSTGRES_URL)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    _schemas.append(schema)
    return f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"


def pytest_sessionfinish(session, exitstatus):
    if _schemas:
        engine = create_engine(POSTGRES_URL)
        for schema in _schemas:  # one transaction each: a drop locks every object in the schema
            with engine.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()


def make_workspace(root: Path, backend: str = "sqlite", name: str = "Test VRP"):
    return init_workspace(root, name, database=new_database(backend))


def demo_workspace(base: Path, *, seed: int, scale: float, name: str = "Wessex", years=(2024, 2025)):
    """The demo partnership's files under base/files, and a workspace base/ws holding its reference
    data (LSOA lookup, boundaries, population): what most end-to-end fixtures start from."""
    from vrp.demo import generate
    from vrp.ingest.reference import ingest_boundaries, ingest_lsoa_lookup, ingest_population

    manifest = generate(base / "files", seed=seed, years=years, scale=scale)
    ws = init_workspace(base / "ws", name)
    ingest_lsoa_lookup(ws, manifest.lsoa_lookup)
    ingest_boundaries(ws, manifest.boundaries)
    ingest_population(ws, manifest.population)
    return ws, manifest


@pytest.fixture
def ws(tmp_path, backend):
    return make_workspace(tmp_path / "ws", backend)


def write_csv(path: Path, text: str, gz: bool = False) -> Path:
    data = text.encode("utf-8") if isinstance(text, str) else text
    path.parent.mkdir(parents=True, exist_ok=True)
    if gz:
        path.write_bytes(gzip.compress(data))
    else:
        path.write_bytes(data)
    return path


def workspace_state(ws) -> dict:
    """Everything a failed command must leave untouched: register tables and lake files (the lock
    table's holder changes with every commit attempt, and is not data)."""
    with ws.engine.connect() as con:
        tables = {t: [tuple(r) for r in con.execute(text(f'SELECT * FROM "{t}" ORDER BY 1'))]
                  for t in inspect(con).get_table_names() if t != "locks"}
    files = sorted(str(p.relative_to(ws.lake)) for p in ws.lake.rglob("*") if p.is_file())
    return {"tables": tables, "files": files}
