"""Linkage quality measures, checked against hand counts."""
import pandas as pd
import pytest

from vrp.people.quality import (age_band, error_rates_by, label_scores, link_rates_by, pairwise_scores,
                                record_errors, weight_histogram)


def test_pairwise_scores_hand_counts():
    # truth: {1,2,3} {4,5}; predicted: {1,2} {3,4,5}
    cluster = pd.Series(["A", "A", "B", "B", "B"])
    truth = pd.Series(["x", "x", "x", "y", "y"])
    s = pairwise_scores(cluster, truth)
    # true pairs 3 + 1 = 4; predicted 1 + 3 = 4; agreeing (1,2) and (4,5) = 2
    assert (s["true_pairs"], s["predicted_pairs"], s["true_positive_pairs"]) == (4, 4, 2)
    assert s["precision"] == 0.5 and s["recall"] == 0.5 and s["f1"] == 0.5


def test_record_errors_and_rates_by_group():
    cluster = pd.Series(["A", "A", "B", "B", "B"])
    truth = pd.Series(["x", "x", "x", "y", "y"])
    errors = record_errors(cluster, truth)
    assert errors["missed"].tolist() == [True, True, True, False, False]
    assert errors["false_link"].tolist() == [False, False, True, True, True]
    rows = error_rates_by(pd.Series(["f", "f", "m", "m", "m"]), errors, "sex")
    assert rows[0] == {"by": "sex", "group": "f", "records": 2, "records_with_partner": 2, "missed_rate": 1.0,
                       "false_link_rate": 0.0}
    assert rows[1]["missed_rate"] == pytest.approx(1 / 3) and rows[1]["false_link_rate"] == 1.0
    linked = link_rates_by(pd.Series(["f", "f", "m", "m", "m"]), pd.Series(["A", "A", "B", "C", "D"]), "sex")
    assert [r["linked_rate"] for r in linked] == [1.0, 0.0]


def test_label_scores_treat_unscored_pairs_as_non_matches():
    pairs = pd.DataFrame({"record_id_l": ["1", "3"], "record_id_r": ["2", "1"], "match_probability": [0.99, 0.5]})
    labels = pd.DataFrame({"record_id_l": ["2", "1", "4"], "record_id_r": ["1", "3", "5"], "is_match": [1, 1, 0]})
    s = label_scores(pairs, labels, 0.9)
    assert (s["true_positive"], s["false_positive"], s["false_negative"]) == (1, 0, 1)


def test_weight_histogram_and_age_bands():
    pairs = pd.DataFrame({"match_weight": [-3.0, 0.5, 1.9, 9.0]})
    rows = weight_histogram(pairs, pd.Series([False, True, True, True]))
    assert [(r["weight_from"], r["pairs"], r["true_matches"]) for r in rows] == [(-4.0, 1, 0), (0.0, 2, 2), (8.0, 1, 1)]
    assert age_band(pd.Series([17, 18, 24, 25, 40, None])).tolist()[:5] == ["under 18", "18-24", "18-24", "25-39", "40+"]
