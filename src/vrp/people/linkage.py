"""Probabilistic person linkage: the one module that talks to Splink.

Everything else in vrp calls `link_records` with a plain table of person records and gets back a
cluster per record, the scored pairs and the trained model. Splink's API (v4 today) and its
backends stay behind this seam: DuckDB in process by default, Spark for national-scale runs.

The settings are a versioned data file (data/linkage/uk-person.toml; a workspace may add its own in
linkage/), so the rules a partnership links people by are reviewable and recorded with each run.
"""
from __future__ import annotations

import csv
import logging
import os
import tempfile
import time
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path

import pandas as pd

from vrp.datafile import read_toml
from vrp.errors import VrpError

BACKENDS = ("duckdb", "spark")
# Columns a person table may have (besides record_id); `dataset` and `person_key` come from the
# partner datasets, where a person key is only comparable within one dataset.
PERSON_COLUMNS = ("first_name", "surname", "dob", "sex", "postcode", "address", "town", "birth_place", "email",
                  "national_id", "person_key", "dataset")
KINDS = ("forename_surname", "date_of_birth", "postcode", "exact", "exact_tf", "jaro_winkler", "email")
_SETTINGS_KEYS = ("id", "version", "name", "description", "threshold", "recall", "blocking", "deterministic",
                  "training", "comparisons")


class LinkageError(VrpError):
    pass


@dataclass(frozen=True)
class LinkSettings:
    id: str
    version: str
    name: str
    threshold: float
    recall: float
    blocking: tuple[tuple[str, ...], ...]
    deterministic: tuple[tuple[str, ...], ...]
    training: tuple[tuple[str, ...], ...]
    comparisons: dict[str, str]
    source: str = ""

    def with_threshold(self, threshold: float | None) -> "LinkSettings":
        if threshold is None:
            return self
        if not 0 < threshold < 1:
            raise LinkageError(f"threshold must be between 0 and 1 (got {threshold})")
        return LinkSettings(**{**self.__dict__, "threshold": threshold})


@dataclass
class LinkResult:
    """Clusters (record_id -> cluster_id), scored pairs, and what produced them."""

    clusters: pd.DataFrame
    pairs: pd.DataFrame
    settings: LinkSettings
    backend: str
    model: dict
    seconds: dict[str, float] = field(default_factory=dict)
    comparisons_used: list[str] = field(default_factory=list)


# ---- settings --------------------------------------------------------------------------------


def load_settings(name_or_path: str | None = None, extra_dirs: tuple[Path, ...] = ()) -> LinkSettings:
    """Built-in settings by id (default uk-person), a workspace file by id, or a TOML path."""
    name = name_or_path or "uk-person"
    path = Path(name)
    if not path.is_file():
        for folder in extra_dirs:
            candidate = Path(folder) / f"{name}.toml"
            if candidate.is_file():
                path = candidate
                break
        else:
            builtin = resources.files("vrp.people").joinpath(f"data/linkage/{name}.toml")
            if not builtin.is_file():
                raise LinkageError(f"no linkage settings {name!r} (built in: uk-person; or give a TOML file)")
            return _parse_settings(builtin.read_text("utf-8"), f"linkage settings {name}")
    return _parse_settings(path.read_text("utf-8"), str(path))


def _parse_settings(text: str, where: str) -> LinkSettings:
    def fail(message: str):
        raise LinkageError(f"{where}: {message}")

    data = read_toml(text, _SETTINGS_KEYS, ("id", "version"), fail)
    comparisons = dict(data.get("comparisons", {}))
    for column, kind in comparisons.items():
        if kind not in KINDS:
            fail(f"comparison kind {kind!r} for {column!r} is not one of {', '.join(KINDS)}")
    rules = {key: tuple(tuple(rule) for rule in data.get(key, [])) for key in ("blocking", "deterministic", "training")}
    if not rules["blocking"]:
        fail("'blocking' needs at least one rule")
    return LinkSettings(id=data["id"], version=str(data["version"]), name=data.get("name", ""),
                        threshold=float(data.get("threshold", 0.95)), recall=float(data.get("recall", 0.7)),
                        comparisons=comparisons, source=where, **rules)


# ---- preparing records -----------------------------------------------------------------------


@cache
def nicknames() -> dict[str, str]:
    """Nickname -> formal first name (data/nicknames.csv), for folding Bob into Robert."""
    text = resources.files("vrp.people").joinpath("data/nicknames.csv").read_text("utf-8")
    return {row["nickname"]: row["name"] for row in csv.DictReader(text.splitlines())}


def _clean_name(values: pd.Series) -> pd.Series:
    """Lower case letters only ("O'Brien-Smith" -> "obriensmith"); blank -> null."""
    text = values.astype("string").str.lower().str.replace(r"[^a-z]", "", regex=True)
    return text.mask(text == "")


def _first_token(values: pd.Series) -> pd.Series:
    text = values.astype("string").str.strip().str.split(r"\s+", n=1, regex=True).str[0]
    return _clean_name(text)


def _iso_date(values: pd.Series) -> pd.Series:
    """Dates as 'YYYY-MM-DD' strings (string comparisons find typos and transpositions); invalid -> null."""
    parsed = pd.to_datetime(values.astype("string"), errors="coerce", format="%Y-%m-%d")
    return parsed.dt.strftime("%Y-%m-%d").astype("string")


def prepare_records(records: pd.DataFrame) -> pd.DataFrame:
    """The columns the comparisons and blocking rules use, standardised the same way for every source."""
    from vrp.ingest.people import normalise_postcode

    if "record_id" not in records.columns:
        raise LinkageError("the person table has no record_id column")
    out = pd.DataFrame({"record_id": records["record_id"].astype("string")})
    if out["record_id"].isna().any() or out["record_id"].duplicated().any():
        raise LinkageError("record_id must be present and unique on every row")
    if "first_name" in records:
        out["first_name"] = _first_token(records["first_name"]).map(lambda n: nicknames().get(n, n), na_action="ignore")
        out["first_initial"] = out["first_name"].str[0]
    if "surname" in records:
        out["surname"] = _clean_name(records["surname"])
        out["surname_initial"] = out["surname"].str[0]
    if "first_name" in out and "surname" in out:
        out["name_concat"] = (out["first_name"] + " " + out["surname"]).astype("string")
    if "dob" in records:
        out["dob"] = _iso_date(records["dob"])
    if "postcode" in records:
        text = records["postcode"].astype("string").str.strip()
        out["postcode"] = text.map(normalise_postcode, na_action="ignore").mask(text == "")
    if "sex" in records:
        sex = records["sex"].astype("string").str.strip().str.lower().str[0]
        out["sex"] = sex.where(sex.isin(["m", "f"]))
    for column in ("address", "town", "birth_place", "email", "national_id", "person_key", "dataset"):
        if column in records:
            text = records[column].astype("string").str.strip().str.lower()
            out[column] = text.mask(text == "")
    return out


# ---- Splink settings --------------------------------------------------------------------------


def _comparisons(settings: LinkSettings, columns: set[str]) -> tuple[list, list[str]]:
    import splink.comparison_library as cl

    made, used = [], []
    for column, kind in settings.comparisons.items():
        if column == "name":
            if not {"first_name", "surname"} <= columns:
                continue
            made += [_name_comparison("first_name", "surname"), _name_comparison("surname", "first_name")]
        elif column not in columns:
            continue
        elif kind == "date_of_birth":
            made.append(_dob_comparison(column))
        elif kind == "postcode":
            made.append(cl.PostcodeComparison(column))
        elif kind == "email":
            made.append(cl.EmailComparison(column))
        elif kind == "jaro_winkler":
            made.append(cl.JaroWinklerAtThresholds(column, [0.9]))
        elif column == "person_key":
            made.append(_within_dataset_exact(column) if "dataset" in columns else cl.ExactMatch(column))
        else:
            made.append(cl.ExactMatch(column).configure(term_frequency_adjustments=kind == "exact_tf"))
        used.append(column)
    if not made:
        raise LinkageError("no comparison applies: the person table needs some of "
                           "first_name + surname, dob, sex, postcode, address, town, birth_place, email, national_id")
    return made, used


def _name_comparison(col: str, other: str):
    """One name on its own (a missing first name does not hide an agreeing surname), with a level
    for the name appearing in the other name's place (first name and surname swapped)."""
    import splink.comparison_level_library as cll
    from splink.comparison_library import CustomComparison

    return CustomComparison(output_column_name=col, comparison_levels=[
        cll.NullLevel(col),
        cll.ExactMatchLevel(col, term_frequency_adjustments=True),
        cll.JaroWinklerLevel(col, 0.92),
        cll.JaroWinklerLevel(col, 0.8),
        cll.CustomLevel(f"{col}_l = {other}_r OR {other}_l = {col}_r", "swapped with " + other.replace("_", " ")),
        cll.ElseLevel(),
    ])


def _dob_comparison(col: str):
    """Exact, day and month transposed, one typo, same day and month with the year one out, else."""
    import splink.comparison_level_library as cll
    from splink.comparison_library import CustomComparison

    l, r = f"{col}_l", f"{col}_r"
    return CustomComparison(output_column_name=col, comparison_levels=[
        cll.NullLevel(col),
        cll.ExactMatchLevel(col),
        cll.CustomLevel(f"substr({l},1,4) = substr({r},1,4) AND substr({l},6,2) = substr({r},9,2) "
                        f"AND substr({l},9,2) = substr({r},6,2)", "day and month transposed"),
        cll.DamerauLevenshteinLevel(col, 1),
        cll.CustomLevel(f"substr({l},6,5) = substr({r},6,5) AND "
                        f"abs(cast(substr({l},1,4) AS int) - cast(substr({r},1,4) AS int)) = 1",
                        "year one out"),
        cll.ElseLevel(),
    ])


def _within_dataset_exact(col: str):
    """A partner's own person id says nothing about a record from another partner (null level)."""
    import splink.comparison_level_library as cll
    from splink.comparison_library import CustomComparison

    return CustomComparison(output_column_name=col, comparison_levels=[
        cll.CustomLevel(f"{col}_l IS NULL OR {col}_r IS NULL OR dataset_l <> dataset_r",
                        "not comparable").configure(is_null_level=True),
        cll.ExactMatchLevel(col),
        cll.ElseLevel(),
    ])


def _rules(rules: tuple[tuple[str, ...], ...], columns: set[str]) -> list:
    """Blocking rules whose columns the table has; `reversed_names` compares names the other way round."""
    from splink import block_on

    out = []
    for rule in rules:
        if rule == ("reversed_names",):
            if {"first_name", "surname"} <= columns:
                out.append("l.first_name = r.surname AND l.surname = r.first_name")
        elif set(rule) <= columns:
            out.append(block_on(*rule))
    return out


# ---- running ------------------------------------------------------------------------------------


def _db_api(backend: str, workdir: Path):
    if backend == "duckdb":
        import duckdb
        from splink import DuckDBAPI

        # In memory, spilling to a temporary folder past half the machine's memory instead of
        # failing (a million records give tens of millions of blocked pairs).
        con = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False,
                                     "temp_directory": str(workdir / "duckdb-spill"), "memory_limit": _half_memory()})
        return DuckDBAPI(connection=con)
    if backend == "spark":
        from splink import SparkAPI

        return SparkAPI(spark_session=spark_session(workdir))
    raise LinkageError(f"unknown linkage backend {backend!r} (expected {' or '.join(BACKENDS)})")


def _half_memory() -> str:
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return "4GB"
    return f"{max(1, total // 2 // 2**30)}GB"


def spark_session(workdir: Path):
    """A local Spark session (all cores, loopback only) with the checkpoint folder Splink needs. A
    national deployment points SPARK_REMOTE / its own session at a cluster instead."""
    from pyspark.sql import SparkSession
    from splink.internals.spark.jar_location import similarity_jar_location

    # Splink's string-similarity UDFs (Jaro-Winkler etc.) ship as a jar inside the wheel: no download.
    spark = (SparkSession.builder.master("local[*]").appName("vrp-linkage")
             .config("spark.jars", similarity_jar_location())
             .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
             .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false").config("spark.sql.shuffle.partitions", "8")
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    checkpoint = workdir / "spark-checkpoints"
    checkpoint.mkdir(parents=True, exist_ok=True)
    spark.sparkContext.setCheckpointDir(str(checkpoint))
    return spark


def link_records(records: pd.DataFrame, settings: LinkSettings | None = None, backend: str = "duckdb",
                 link_type: str = "dedupe_only", progress=None, max_u_pairs: float = 2e6,
                 model: dict | None = None) -> LinkResult:
    """Train a model on the records themselves (no labels needed), score blocked pairs and cluster
    at the settings' threshold. With link_type "link_only", `records` has a `dataset` column and only
    pairs from different datasets are scored. Given a `model` saved by an earlier run, score with it
    instead of training: the same pair then gets the same weight, which keeps clusters stable."""
    from splink import Linker, SettingsCreator

    settings = settings or load_settings()
    step = progress or (lambda label: None)
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    prepared = prepare_records(records)
    columns = set(prepared.columns)
    comparisons, used = _comparisons(settings, columns)
    blocking = _rules(settings.blocking, columns)
    if not blocking:
        raise LinkageError("no blocking rule applies to the columns of this table")
    logging.getLogger("splink").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="vrp-link-") as tmp:
        splink_settings = SettingsCreator(
            link_type=link_type, unique_id_column_name="record_id", comparisons=comparisons,
            blocking_rules_to_generate_predictions=blocking, retain_intermediate_calculation_columns=False,
            additional_columns_to_retain=["dataset"] if "dataset" in columns else [],
            source_dataset_column_name="dataset" if link_type != "dedupe_only" else None)
        inputs = prepared if link_type == "dedupe_only" else [g for _, g in prepared.groupby("dataset", sort=True)]
        if model is not None:
            model = with_parameters(splink_settings, model, "duckdb" if backend == "duckdb" else "spark")
        linker = Linker(inputs, model or splink_settings, _db_api(backend, Path(tmp)), set_up_basic_logging=False)
        if model is None:
            step("training")
            _train(linker, settings, columns, max_u_pairs)
            _refine_prior(linker, _total_pairs(prepared, link_type))
        seconds["train"] = time.perf_counter() - started
        step("scoring pairs")
        predictions = linker.inference.predict(threshold_match_probability=0.01)
        pairs = predictions.as_pandas_dataframe()[["record_id_l", "record_id_r", "match_weight", "match_probability"]]
        seconds["predict"] = time.perf_counter() - started - seconds["train"]
        step("clustering")
        clustered = linker.clustering.cluster_pairwise_predictions_at_threshold(
            predictions, threshold_match_probability=settings.threshold).as_pandas_dataframe()
        seconds["cluster"] = time.perf_counter() - started - seconds["train"] - seconds["predict"]
        model = linker.misc.save_model_to_json()
    clusters = clustered[["record_id", "cluster_id"]].astype("string")
    return LinkResult(clusters=clusters.sort_values("record_id", ignore_index=True), pairs=pairs, settings=settings,
                      backend=backend, model=model, seconds=seconds, comparisons_used=used)


def with_parameters(settings_creator, model: dict, dialect: str) -> dict:
    """Settings for this run's engine carrying a saved model's trained parameters (prior, m and u of
    every level, matched by comparison and level position). The comparisons are rebuilt from the
    settings file in the engine's own SQL dialect, so a model trained on DuckDB (say, on a sample)
    can score a national run on Spark: Splink stores SQL in the dialect it was trained in."""
    fresh = settings_creator.create_settings_dict(dialect)
    saved = {c.get("output_column_name"): c for c in model.get("comparisons", [])}
    for comparison in fresh["comparisons"]:
        old = saved.get(comparison.get("output_column_name"))
        if old is None or len(old["comparison_levels"]) != len(comparison["comparison_levels"]):
            raise LinkageError(f"the saved model does not fit comparison {comparison.get('output_column_name')!r}: "
                               "retrain (vrp link partners --retrain)")
        for level, trained in zip(comparison["comparison_levels"], old["comparison_levels"]):
            for key in ("m_probability", "u_probability"):
                if key in trained:
                    level[key] = trained[key]
    fresh["probability_two_random_records_match"] = model["probability_two_random_records_match"]
    return fresh


def _train(linker, settings: LinkSettings, columns: set[str], max_u_pairs: float) -> None:
    deterministic = _rules(settings.deterministic, columns)
    if deterministic:
        try:
            linker.training.estimate_probability_two_random_records_match(deterministic, recall=settings.recall)
        except Exception as exc:  # no exact matches at all: keep Splink's default prior
            logging.getLogger("vrp").warning("prior not estimated (%s); using the default", exc)
    linker.training.estimate_u_using_random_sampling(max_pairs=max_u_pairs, seed=1)
    for rule in _rules(settings.training, columns):
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(rule)
        except Exception as exc:  # a block with no pairs trains nothing; the other blocks still do
            logging.getLogger("vrp").warning("training block %s skipped: %s", rule, exc)


def _total_pairs(prepared: pd.DataFrame, link_type: str) -> float:
    n = float(len(prepared))
    if link_type == "dedupe_only":
        return n * (n - 1) / 2
    sizes = prepared.groupby("dataset").size().to_numpy(dtype=float)
    cross = (sizes.sum() ** 2 - (sizes ** 2).sum()) / 2
    return cross + (0 if link_type == "link_only" else float((sizes * (sizes - 1) / 2).sum()))


def _refine_prior(linker, total_pairs: float, rounds: int = 3) -> None:
    """Re-estimate the prior match probability as the expected share of matching pairs under the
    trained model (the EM update for the prior), starting from the deterministic-rule estimate.

    The deterministic estimate needs a guess of how many true matches agree exactly on name and date
    of birth; on messy partner data that guess is often far too high, the prior far too low and
    recall poor. Blocked pairs hold nearly all the probability mass, so summing their match
    probabilities is a good estimate of the expected number of matches."""
    settings = linker._settings_obj  # Splink 4 has no public setter for the prior
    for _ in range(rounds):
        # pairs below 1e-4 carry a negligible share of the mass and need not be kept
        predictions = linker.inference.predict(threshold_match_probability=1e-4)
        expected = linker.misc.query_sql(
            f"SELECT sum(match_probability) AS s FROM {predictions.physical_name}")["s"].iloc[0]
        predictions.drop_table_from_database_and_remove_from_cache()
        if not expected or not total_pairs:
            return
        settings._probability_two_random_records_match = float(min(max(expected / total_pairs, 1e-12), 0.5))
