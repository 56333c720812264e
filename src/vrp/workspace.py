"""The workspace: one folder holding a partnership's configuration, lake and app state.

    DIR/vrp.toml     configuration (partnership, area, definitions in use, column mappings)
    DIR/lake/        immutable Parquet snapshots, one folder per dataset, source and period
    DIR/vrp.db       app state (dataset register, ingest runs, quarantine, audit log, cohort lists,
                     link runs), via SQLAlchemy: SQLite here by default, or the PostgreSQL database
                     named in vrp.toml's [store] database (`vrp init DIR --database URL`)
    DIR/secrets/     the pseudonymisation key (never in the lake, never in vrp.toml)
    DIR/identifiable/ identifiable values (names, dates of birth, raw ids) behind the pseudonyms:
                     readable by the identifiable tier only, every read audited
    DIR/definitions/ the partnership's own serious-violence definition files
    DIR/cohorts/     the partnership's own cohort rules; DIR/linkage/ its own linkage settings

Commands find it from --workspace, else $VRP_WORKSPACE, else the current directory.
"""
from __future__ import annotations

import os
import secrets
import tomllib
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path

from vrp.errors import WorkspaceError

CONFIG_NAME = "vrp.toml"

DEFAULT_CONFIG = """\
# vrp workspace configuration.
[partnership]
name = "{name}"

[store]
# Where the app state lives (register, runs, quarantine, audit log, cohort lists, link runs).
# Empty: vrp.db in this folder (SQLite). For a deployment, a PostgreSQL URL such as
# "postgresql://vrp@db-host/vrp"; give the password through PGPASSWORD or ~/.pgpass, never here.
database = "{database}"

[area]
# Local authority (district) codes that make up the partnership area. Empty: every district in the
# loaded LSOA lookup is in the area.
districts = []

[definitions]
# Serious-violence definitions that `vrp classify` and `vrp explain` use by default
# (ids from `vrp definitions`; the partnership's own files go in definitions/).
in_use = ["hips-sv", "ho-knife-enabled", "ho-homicide", "policeuk-sv-approx"]

[quality]
# A month is flagged when its count is this many robust standard deviations from the median of
# the other months of the same series (and at least min_change away, to ignore tiny series).
anomaly_z = 5.0
anomaly_min_change = 20

[disclosure]
# Small-number suppression for everything that leaves the analyst tier (docs/disclosure.md):
# counts 1 to min_count-1 are suppressed, with complementary suppression so they cannot be
# worked out from totals; rates, intervals and changes need a count of at least rate_min_count.
min_count = 5
rate_min_count = 10
suppress_zero = false

[linkage]
# Person linkage (`vrp link partners`, docs/people.md): pairs scoring at least this match
# probability are joined into one person.
threshold = 0.95

[cohorts]
# Safeguarded cohort lists (`vrp cohorts ...`, docs/people.md): each entry must be reviewed by this
# many days after the build, and is deleted (not hidden) this many days after it.
review_days = 90
retention_days = 365

# Column mappings for force crime extracts: [mappings.NAME], see docs/schemas.md.
# [mappings.myforce]
# source = "My Constabulary"
# date_format = "%d/%m/%Y"
# [mappings.myforce.columns]
# crime_ref = "Crime Number"
"""


@dataclass
class Workspace:
    root: Path
    config: dict = field(default_factory=dict)
    # Read the lake as it stood on this date: only snapshots loaded with an as-at date on or before
    # it count (`dataclasses.replace(ws, as_at=d)`), so a past report can be made again exactly.
    as_at: date | None = None

    @property
    def lake(self) -> Path:
        return self.root / "lake"

    @property
    def db_path(self) -> Path:
        """The SQLite file, when the app state is not in PostgreSQL."""
        return self.root / "vrp.db"

    @property
    def database(self) -> str:
        """The app-state database: the [store] URL, else the SQLite file in the workspace."""
        return self.config.get("store", {}).get("database", "") or str(self.db_path)

    @property
    def definitions_dir(self) -> Path:
        return self.root / "definitions"

    @property
    def measures_dir(self) -> Path:
        return self.root / "measures"

    @property
    def key_path(self) -> Path:
        """$VRP_KEY_FILE (a deployment mounts the key from its secret store), else secrets/."""
        return Path(os.environ.get("VRP_KEY_FILE") or self.root / "secrets" / "pseudonym.key")

    @property
    def staging_dir(self) -> Path:
        """Where loads stage their files (and hold their lock files) before they commit: vrp.lake.runs."""
        return self.lake / ".staging"

    @property
    def identifiable_dir(self) -> Path:
        return self.root / "identifiable"

    @property
    def partnership_name(self) -> str:
        return self.config.get("partnership", {}).get("name", "")

    @property
    def area_districts(self) -> list[str]:
        return list(self.config.get("area", {}).get("districts", []))

    def quality_setting(self, name: str, default):
        return self.config.get("quality", {}).get(name, default)

    @cached_property
    def pseudonym_key(self) -> bytes:
        try:
            return read_key(self.key_path)
        except FileNotFoundError:
            raise WorkspaceError(f"{self.key_path}: pseudonymisation key missing") from None

    @cached_property
    def engine(self):
        from vrp.store import open_engine

        return open_engine(self.database)


def read_key(path: Path) -> bytes:
    """A pseudonymisation key file: 32 bytes as hex on one line."""
    return bytes.fromhex(Path(path).read_text().strip())


def init_workspace(root: Path, name: str = "Violence Reduction Partnership", *, database: str | None = None) -> Workspace:
    """Create a workspace; an existing one is left as it is (idempotent).

    `database` is a PostgreSQL URL for the app state; None keeps it in DIR/vrp.db (SQLite).
    """
    root = Path(root)
    cfg = root / CONFIG_NAME
    if not cfg.exists() and database:
        if '"' in database or "\\" in database:
            raise WorkspaceError(f"--database {database!r}: a URL cannot contain a double quote or a backslash")
        from vrp.store import open_engine

        open_engine(database).dispose()  # a database that cannot be reached leaves no workspace behind
    root.mkdir(parents=True, exist_ok=True)
    if not cfg.exists():
        cfg.write_text(DEFAULT_CONFIG.format(name=name.replace('"', "'"), database=database or ""))
    elif database:
        existing = open_workspace(root).config.get("store", {}).get("database", "")
        if existing != database:
            raise WorkspaceError(f"{root} is already a workspace with its app state in "
                                 f"{existing or 'vrp.db (SQLite)'}; it is left as it is")
    (root / "lake").mkdir(exist_ok=True)
    (root / "definitions").mkdir(exist_ok=True)
    (root / "measures").mkdir(exist_ok=True)
    (root / "identifiable").mkdir(mode=0o700, exist_ok=True)
    (root / "cohorts").mkdir(exist_ok=True)  # the partnership's own cohort rules
    (root / "linkage").mkdir(exist_ok=True)  # the partnership's own linkage settings
    key = root / "secrets" / "pseudonym.key"
    if not key.exists():
        key.parent.mkdir(mode=0o700, exist_ok=True)
        key.write_text(secrets.token_hex(32) + "\n")
        key.chmod(0o600)
    ws = open_workspace(root)
    ws.engine  # creates vrp.db and runs the migrations
    return ws


def open_workspace(root: Path) -> Workspace:
    root = Path(root)
    cfg = root / CONFIG_NAME
    if not cfg.is_file():
        raise WorkspaceError(f"{root}: not a vrp workspace (no {CONFIG_NAME}); run `vrp init {root}`")
    try:
        config = tomllib.loads(cfg.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise WorkspaceError(f"{cfg}: {exc}") from None
    ws = Workspace(root=root.resolve(), config=config)
    if _staging_in_use(ws):  # a run in progress, or a killed one's leftovers: swept before anything reads
        from vrp.lake.runs import sweep_dead_runs

        sweep_dead_runs(ws)
    return ws


def _staging_in_use(ws) -> bool:
    """Anything in lake/.staging (one directory read: opening a workspace imports nothing for it)."""
    try:
        with os.scandir(ws.staging_dir) as entries:
            return any(entries)
    except FileNotFoundError:
        return False


def find_workspace(explicit: Path | None = None) -> Workspace:
    """--workspace, else $VRP_WORKSPACE, else the current directory."""
    root = explicit or os.environ.get("VRP_WORKSPACE") or Path.cwd()
    return open_workspace(Path(root))
