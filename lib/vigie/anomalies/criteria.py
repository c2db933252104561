"""Label-free quality of an anomaly scoring function: Excess-Mass and Mass-Volume curves (Goix 2016).

A good scoring function puts most of the data's mass in a small volume. With `s` a normality score
(higher = more normal), data scores `s_data`, and scores `s_unif` of points drawn uniformly in a box
of volume `volume` around the data:
- Mass-Volume: MV(a) = Leb{s >= u_a} with u_a the level holding a share a of the data, for a in
  [0.9, 0.999]; the area under it is the criterion, lower is better.
- Excess-Mass: EM(t) = max_u P(s >= u) - t * Leb{s >= u}; its area over t from 0 to where it falls
  under 0.9 is the criterion, higher is better (volume-normalised: multiply by the box volume to
  compare across boxes).
Volumes are estimated by Monte Carlo, which only works in a few dimensions; the tuner therefore
scores detectors on random low-dimensional sub-spaces and averages (Goix's feature sub-sampling).

Example:
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=2000); u = rng.uniform(x.min(), x.max(), 20000); v = x.max() - x.min()
    >>> mass_volume(-abs(x), -abs(u), v) < mass_volume(abs(x), abs(u), v)  # the right score wins
    True
"""

from __future__ import annotations

import numpy as np

ALPHA_MIN, ALPHA_MAX = 0.9, 0.999
EM_FLOOR = 0.9


def _levels(s_data: np.ndarray, max_levels: int = 1000) -> np.ndarray:
    """Candidate thresholds: the data's distinct scores, thinned to quantiles when there are many."""
    levels = np.unique(s_data)
    if len(levels) > max_levels:
        levels = np.unique(np.quantile(s_data, np.linspace(0, 1, max_levels)))
    return levels


def _share_at_or_above(sorted_scores: np.ndarray, levels: np.ndarray) -> np.ndarray:
    return 1.0 - np.searchsorted(sorted_scores, levels, side="left") / len(sorted_scores)


def mass_volume(s_data, s_unif, volume: float, n_alpha: int = 100) -> float:
    """Area under the Mass-Volume curve for masses 0.9..0.999 (lower is better)."""
    s_data, s_unif = np.sort(np.asarray(s_data, float)), np.sort(np.asarray(s_unif, float))
    alphas = np.linspace(ALPHA_MIN, ALPHA_MAX, n_alpha)
    # u_a: the largest level whose upper set holds at least a share a of the data
    levels = np.quantile(s_data, 1.0 - alphas, method="inverted_cdf")
    mv = volume * _share_at_or_above(s_unif, levels)
    return float(np.trapz(mv, alphas))


def excess_mass(s_data, s_unif, volume: float, n_t: int = 1000) -> float:
    """Area under the Excess-Mass curve while EM(t) >= 0.9 (higher is better).

    EM is a maximum of lines in t, so it is evaluated on [0, T] with T doubled from 0.1 / volume (where
    a constant score falls under 0.9) until EM(T) < 0.9: the resolution adapts to the detector.
    """
    s_data, s_unif = np.sort(np.asarray(s_data, float)), np.sort(np.asarray(s_unif, float))
    levels = _levels(s_data)
    mass = _share_at_or_above(s_data, levels)
    leb = volume * _share_at_or_above(s_unif, levels)

    def em_at(t: np.ndarray) -> np.ndarray:
        return np.maximum((mass[None, :] - t[:, None] * leb[None, :]).max(axis=1), 0.0)

    end_t = 0.1 / volume
    for _ in range(60):
        if em_at(np.array([end_t]))[0] < EM_FLOOR:
            break
        end_t *= 2
    t = np.linspace(0.0, end_t, n_t)
    em = em_at(t)
    em[0] = 1.0
    below = np.nonzero(em < EM_FLOOR)[0]
    stop = below[0] + 1 if len(below) else n_t
    return float(np.trapz(em[:stop], t[:stop]))


def uniform_box(x: np.ndarray, n: int, rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """`n` points drawn uniformly in the bounding box of `x` (rows are points), and the box's volume."""
    lo, hi = x.min(axis=0), x.max(axis=0)
    width = np.where(hi > lo, hi - lo, 1e-9)
    return lo + rng.uniform(size=(n, x.shape[1])) * width, float(np.prod(width))
