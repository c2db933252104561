"""Which accounts the bots model flags, as a rule a service can apply without Spark or a JVM.

Shallow trees give few distinct scores, so many accounts can tie at the threshold, and flagging
all of them would flag more than the rate (263 accounts instead of 46 in `make demo`). The batch
run flags the tied accounts with the strongest evidence first, by `TIE_KEYS`, up to the rate. The
rule records the last tied account it flagged (`tie_cut`), so the same threshold and cut flag the
same accounts anywhere: in Spark (`vigie.models.bots.flag`) and here, on the native model's scores.

Example:
    >>> rule = FlagRule.from_dict({"threshold": 0.3, "tie_cut": None})
    >>> frame = pd.DataFrame({"user_id": [1, 2], "is_near_rate": [0.5, 0.1], "compression_ratio": [0.2, 0.4]})
    >>> rule.flags(frame, [0.31, 0.2]).tolist()
    [True, False]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

# Between accounts tied at the threshold, the order of flagging: (column, descending). Nulls go last
# either way. user_id comes last, so the order is total and the cut is one account.
TIE_KEYS = (("is_near_rate", True), ("compression_ratio", False), ("user_id", False))
TIE_ORDER = [f"{name} {'desc' if descending else 'asc'} nulls last" for name, descending in TIE_KEYS]  # as stored


@dataclass(frozen=True)
class FlagRule:
    """Flag `score > threshold`, and `score == threshold` up to and including `tie_cut` in `TIE_KEYS`
    order. With no `tie_cut` (a target recall, not a rate), every account at the threshold is flagged."""

    threshold: float
    tie_cut: dict | None = None  # the TIE_KEYS values of the last tied account flagged

    def to_dict(self) -> dict:
        return {"threshold": self.threshold, "tie_cut": self.tie_cut, "tie_order": TIE_ORDER}

    @classmethod
    def from_dict(cls, d: dict) -> FlagRule:
        order = list(d.get("tie_order", TIE_ORDER))
        if order != TIE_ORDER:  # a cut made in another order would flag other accounts
            raise ValueError(f"the flag rule orders ties by {order}; this vigie orders them by {TIE_ORDER}")
        return cls(float(d["threshold"]), d.get("tie_cut"))

    def flags(self, frame: pd.DataFrame, scores) -> np.ndarray:
        """For each row of `frame`, whether the rule flags it, given its score in `scores` (from the
        native model). `frame` holds user_id and the features, NaN or None where a value is missing."""
        s = np.asarray(scores, dtype=float).ravel()
        above, tied = s > self.threshold, s == self.threshold
        if self.tie_cut is None:
            return above | tied
        return above | (tied & self._at_or_before_cut(frame))

    def _at_or_before_cut(self, frame: pd.DataFrame) -> np.ndarray:
        def values(name: str) -> np.ndarray:
            return pd.to_numeric(frame[name]).to_numpy()

        return at_or_before(self.tie_cut, values, lambda name: frame[name].notna().to_numpy())


def at_or_before(cut: dict, values, known):
    """True for the rows at or before `cut` in `TIE_KEYS` order, missing values last.

    `values(name)` and `known(name)` give a column and where it has a value, as numpy arrays or as
    Spark Columns alike: this needs only comparisons and the boolean operators, so the batch run
    (`vigie.models.bots.flag`) and a service flag by the same code.
    """
    (last, _), *rest = reversed(TIE_KEYS)
    out = values(last) <= cut[last]
    for name, descending in rest:
        x, has, v = values(name), known(name), cut[name]
        if v is None:
            before, same = has, ~has
        else:
            before, same = has & ((x > v) if descending else (x < v)), has & (x == v)
        out = before | (same & out)
    return out
