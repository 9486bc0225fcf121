"""The alert rule, shared by evaluation, training and serving (and light to import)."""

from __future__ import annotations

import numpy as np


def flag(scores: np.ndarray, threshold: float) -> np.ndarray:
    """A score at or above the calibrated threshold raises a flag."""
    return scores >= threshold
