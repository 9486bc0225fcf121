"""Hold-out metrics (the promotion gates that compare them: :mod:`aetheredge.lifecycle.gates`)."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import (
    average_precision_score,
    mean_absolute_error,
    precision_recall_fscore_support,
    r2_score,
    roc_auc_score,
)

from aetheredge.models.flags import flag


def anomaly_metrics(y_true: np.ndarray, scores: np.ndarray, threshold: float) -> dict[str, float]:
    """Precision, recall, F1 of the flags; ROC-AUC and average precision (the area under
    the precision-recall curve) of the scores, NaN without both classes; the alert rate."""
    y_true = np.asarray(y_true, dtype=bool)
    flags = flag(scores, threshold)
    precision, recall, f1, _ = precision_recall_fscore_support(
        y_true, flags, average="binary", zero_division=0
    )
    both = 0 < y_true.sum() < len(y_true)
    auc = roc_auc_score(y_true, scores) if both else float("nan")
    ap = average_precision_score(y_true, scores) if both else float("nan")
    return {
        "precision": float(precision),
        "recall": float(recall),
        "f1": float(f1),
        "roc_auc": float(auc),
        "average_precision": float(ap),
        "alert_rate": float(flags.mean()),
    }


def regression_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """MAE (USD), MAPE (fraction, rows with a non-zero bill), R², and the cost-weighted
    error WAPE (the absolute errors over the total cost: a row weighs what it costs, so
    a thousand cent-sized misses cannot hide one large one, as they do in MAPE)."""
    y_true = np.asarray(y_true, dtype=np.float64)
    billed = y_true > 0
    mape = np.mean(np.abs(y_pred[billed] - y_true[billed]) / y_true[billed])
    total = np.abs(y_true).sum()
    return {
        "mae": float(mean_absolute_error(y_true, y_pred)),
        "mape": float(mape),
        "r2": float(r2_score(y_true, y_pred)),
        "wape": float(np.abs(y_pred - y_true).sum() / total) if total else float("nan"),
    }
