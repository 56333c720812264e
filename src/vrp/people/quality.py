"""How good a linkage is: pairwise precision, recall and F1 against ground truth or clerical labels,
the distribution of match weights, and error rates by group (age band, sex, agency), so that a
linkage that fails one group of people more than another is seen before cohorts are built on it.

Pure functions over plain tables; `cluster` and `truth` are aligned per record.
"""
from __future__ import annotations

import numpy as np
import pandas as pd


def _pairs(sizes: pd.Series) -> int:
    sizes = sizes.to_numpy(dtype=np.int64)
    return int((sizes * (sizes - 1) // 2).sum())


def pairwise_scores(cluster: pd.Series, truth: pd.Series) -> dict:
    """Pairwise confusion counts and scores of a clustering against the true person of each record.

    A pair of records is predicted linked when they share a cluster, truly linked when they share a
    true person; records with no true person (unknown) are left out."""
    frame = pd.DataFrame({"c": cluster.to_numpy(), "t": truth.to_numpy()}).dropna()
    tp = _pairs(frame.groupby(["c", "t"]).size())
    predicted = _pairs(frame.groupby("c").size())
    actual = _pairs(frame.groupby("t").size())
    precision = tp / predicted if predicted else 1.0
    recall = tp / actual if actual else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"records": len(frame), "true_pairs": actual, "predicted_pairs": predicted, "true_positive_pairs": tp,
            "false_positive_pairs": predicted - tp, "false_negative_pairs": actual - tp,
            "precision": round(precision, 6), "recall": round(recall, 6), "f1": round(f1, 6)}


def label_scores(pairs: pd.DataFrame, labels: pd.DataFrame, threshold: float) -> dict:
    """Precision, recall and F1 of scored pairs against clerical labels (record_id_l, record_id_r,
    is_match): a labelled pair that was never scored counts as predicted non-match."""
    key = lambda a, b: np.where(a < b, a + "|" + b, b + "|" + a)  # noqa: E731 - order-free pair key
    scored = pd.Series(pairs["match_probability"].to_numpy(),
                       index=key(pairs["record_id_l"].astype(str).to_numpy(), pairs["record_id_r"].astype(str).to_numpy()))
    scored = scored.groupby(level=0).max()
    lab = key(labels["record_id_l"].astype(str).to_numpy(), labels["record_id_r"].astype(str).to_numpy())
    predicted = scored.reindex(lab).fillna(0).to_numpy() >= threshold
    actual = labels["is_match"].astype(bool).to_numpy()
    tp, fp, fn = int((predicted & actual).sum()), int((predicted & ~actual).sum()), int((~predicted & actual).sum())
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"labelled_pairs": len(labels), "true_positive": tp, "false_positive": fp, "false_negative": fn,
            "precision": round(precision, 6), "recall": round(recall, 6), "f1": round(f1, 6)}


def record_errors(cluster: pd.Series, truth: pd.Series) -> pd.DataFrame:
    """Per record: `missed` (a true partner record is in another cluster) and `false_link` (its cluster
    holds a record of another person); `has_partner` says whether it had a true partner at all."""
    frame = pd.DataFrame({"c": cluster.to_numpy(), "t": truth.to_numpy()})
    in_truth = frame.groupby("t")["c"].transform("size")
    same_both = frame.groupby(["c", "t"])["c"].transform("size")
    in_cluster = frame.groupby("c")["t"].transform("size")
    return pd.DataFrame({"has_partner": (in_truth > 1).to_numpy(), "missed": (same_both < in_truth).to_numpy(),
                         "false_link": (same_both < in_cluster).to_numpy()}, index=cluster.index)


def error_rates_by(groups: pd.Series, errors: pd.DataFrame, name: str) -> list[dict]:
    """Missed-link and false-link rates of each group: missed among records that had a true partner."""
    rows = []
    frame = errors.assign(group=groups.astype("string").fillna("unknown").to_numpy())
    for value, part in frame.groupby("group", sort=True):
        with_partner = part[part["has_partner"]]
        rows.append({"by": name, "group": value, "records": len(part), "records_with_partner": len(with_partner),
                     "missed_rate": round(float(with_partner["missed"].mean()), 6) if len(with_partner) else None,
                     "false_link_rate": round(float(part["false_link"].mean()), 6)})
    return rows


def link_rates_by(groups: pd.Series, cluster: pd.Series, name: str) -> list[dict]:
    """Without ground truth: the share of each group's records linked to at least one other record
    (a group linked far less often than the rest points at data quality or comparisons that fail it)."""
    size = cluster.map(cluster.value_counts())
    frame = pd.DataFrame({"group": groups.astype("string").fillna("unknown").to_numpy(), "linked": (size > 1).to_numpy()})
    return [{"by": name, "group": value, "records": len(part), "linked_rate": round(float(part["linked"].mean()), 6)}
            for value, part in frame.groupby("group", sort=True)]


def weight_histogram(pairs: pd.DataFrame, truth_match: pd.Series | None = None, width: float = 2.0) -> list[dict]:
    """Scored pairs by match-weight band; with truth, split into true matches and non-matches."""
    if pairs.empty:
        return []
    band = np.floor(pairs["match_weight"].to_numpy() / width) * width
    frame = pd.DataFrame({"band": band})
    if truth_match is not None:
        frame["true_match"] = truth_match.to_numpy()
    rows = []
    for value, part in frame.groupby("band", sort=True):
        row = {"weight_from": float(value), "weight_to": float(value + width), "pairs": len(part)}
        if truth_match is not None:
            row["true_matches"] = int(part["true_match"].sum())
        rows.append(row)
    return rows


def age_band(age: pd.Series) -> pd.Series:
    """Under 18, 18-24, 25-39, 40+ (the bands safeguarding and cohort reports use)."""
    bins = [-1, 17, 24, 39, 200]
    return pd.cut(age.astype("float"), bins=bins, labels=["under 18", "18-24", "25-39", "40+"]).astype("string")
