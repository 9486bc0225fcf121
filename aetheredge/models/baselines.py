"""Naive baselines that a challenger must beat on the same hold-out.

A model that cannot beat a price book is no model, however much better it is than the
champion: a champion trained on other data can be worse than any reading of the bill.
scikit-learn's estimator API: parameters in ``__init__``, learned state ending in ``_``.
"""

from __future__ import annotations

import numpy as np

from aetheredge import kinds
from aetheredge.models.evaluation import regression_metrics


class UnitPriceBaseline:
    """Cost as a unit price times a quantity: a workload's vCPU-hours times the median
    cost per vCPU-hour of the training rows with its region, pricing model and family
    (the price book's row), and, for rows without vCPU-hours, that row's median cost.
    A row of the book the training rows never saw takes the overall medians.

    This is the nearest to FOCUS's per-SKU unit price that the cost rows allow: the
    region, pricing model and family are what name a SKU's price there.
    """

    def __init__(self, quantity: str = "vcpu_hours") -> None:
        self.quantity = quantity

    def _columns(self) -> tuple[int, list[int]]:
        names = kinds.get("cost").input_names
        book = [i for i, name in enumerate(names) if "=" in name]
        return names.index(self.quantity), book

    def _rows(self, X: np.ndarray) -> np.ndarray:
        _, book = self._columns()
        return np.ascontiguousarray(X[:, book] > 0.5).view(np.dtype((np.void, len(book))))[:, 0]

    def fit(self, X: np.ndarray, y: np.ndarray) -> UnitPriceBaseline:
        q = X[:, self._columns()[0]]
        rows = self._rows(X)
        metered = q > 0
        self.unit_price_ = float(np.median(y[metered] / q[metered])) if metered.any() else 0.0
        self.fixed_ = float(np.median(y[~metered])) if (~metered).any() else 0.0
        self.prices_: dict[bytes, tuple[float, float]] = {}
        for row in np.unique(rows):
            mine = rows == row
            on, off = mine & metered, mine & ~metered
            price = float(np.median(y[on] / q[on])) if on.any() else self.unit_price_
            fixed = float(np.median(y[off])) if off.any() else self.fixed_
            self.prices_[row.tobytes()] = (price, fixed)
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        q = X[:, self._columns()[0]]
        default = (self.unit_price_, self.fixed_)
        found = [self.prices_.get(row.tobytes(), default) for row in self._rows(X)]
        price, fixed = np.array(found).T if found else (np.empty(0), np.empty(0))
        return np.where(q > 0, price * q, fixed)

    def evaluate(self, X: np.ndarray, y: np.ndarray) -> dict[str, float]:
        return regression_metrics(y, self.predict(X))
