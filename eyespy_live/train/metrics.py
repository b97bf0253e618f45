"""Classification metrics with bootstrap confidence intervals (numpy only)."""

from __future__ import annotations

import numpy as np


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve (Mann–Whitney, ties counted half); NaN with one class."""
    labels = np.asarray(labels).astype(bool)
    scores = np.asarray(scores, np.float64)
    pos, neg = int(labels.sum()), int((~labels).sum())
    if pos == 0 or neg == 0:
        return float("nan")
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores), np.float64)
    sorted_scores = scores[order]
    # average ranks over ties
    _, first, counts = np.unique(sorted_scores, return_index=True, return_counts=True)
    avg = first + (counts - 1) / 2.0 + 1.0
    ranks[order] = np.repeat(avg, counts)
    return float((ranks[labels].sum() - pos * (pos + 1) / 2.0) / (pos * neg))


def point_metrics(labels: np.ndarray, scores: np.ndarray, threshold: float = 0.5) -> dict:
    labels = np.asarray(labels).astype(bool)
    pred = np.asarray(scores) >= threshold
    tp = int((pred & labels).sum())
    tn = int((~pred & ~labels).sum())
    fp = int((pred & ~labels).sum())
    fn = int((~pred & labels).sum())
    n = max(1, len(labels))
    precision = tp / (tp + fp) if tp + fp else float("nan")
    recall = tp / (tp + fn) if tp + fn else float("nan")
    f1 = (2 * precision * recall / (precision + recall)
          if tp and precision + recall > 0 else (0.0 if tp + fn else float("nan")))
    return {
        "n": int(len(labels)),
        "accuracy": (tp + tn) / n,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "roc_auc": roc_auc(labels, scores),
        "confusion": {"tn": tn, "fp": fp, "fn": fn, "tp": tp},
    }


METRIC_NAMES = ("accuracy", "precision", "recall", "f1", "roc_auc")


def bootstrap_metrics(labels: np.ndarray, scores: np.ndarray, groups: np.ndarray | None = None,
                      threshold: float = 0.5, rounds: int = 1000, seed: int = 0,
                      level: float = 0.95) -> dict:
    """Point metrics plus percentile intervals from a bootstrap over groups.

    Resampling whole groups (a person, a photo, a video) rather than single eyes keeps the
    two eyes of one face together, so the interval is not narrowed by correlated items.
    """
    labels = np.asarray(labels)
    scores = np.asarray(scores, np.float64)
    result = point_metrics(labels, scores, threshold)
    if groups is None:
        groups = np.arange(len(labels))
    _, inverse = np.unique(np.asarray(groups).astype(str), return_inverse=True)
    members = [np.flatnonzero(inverse == g) for g in range(inverse.max() + 1)] if len(
        labels) else []
    rng = np.random.default_rng(seed)
    samples = {name: [] for name in METRIC_NAMES}
    for _ in range(rounds if members else 0):
        pick = rng.integers(0, len(members), len(members))
        idx = np.concatenate([members[i] for i in pick])
        m = point_metrics(labels[idx], scores[idx], threshold)
        for name in METRIC_NAMES:
            samples[name].append(m[name])
    alpha = (1.0 - level) / 2.0
    result["ci"] = {}
    for name, values in samples.items():
        values = np.asarray(values, np.float64)
        values = values[~np.isnan(values)]
        result["ci"][name] = ([float(np.quantile(values, alpha)),
                               float(np.quantile(values, 1 - alpha))] if len(values) else None)
    return result


def format_metrics(title: str, m: dict) -> str:
    lines = [f"{title}  (n={m['n']})"]
    for name in METRIC_NAMES:
        value = m[name]
        ci = m.get("ci", {}).get(name)
        text = "   n/a" if value != value else f"{100 * value:6.2f}%"
        if ci:
            text += f"  [{100 * ci[0]:.2f}, {100 * ci[1]:.2f}]"
        lines.append(f"  {name:<10}{text}")
    c = m["confusion"]
    lines.append(f"  confusion  true open: {c['tn']} open / {c['fp']} closed;"
                 f" true closed: {c['fn']} open / {c['tp']} closed")
    return "\n".join(lines)
