"""Is the canary worse than the stable revision? Statistics for one step of a canary release.

Each comparison fails a step only when the candidate is worse with statistical significance
(p < alpha, one-sided) *and* by more than a configured margin, so a real but harmless difference
(2 ms slower) is not a regression and a large but noisy one (a few slow samples) is not proof.
Too few samples on either side give "inconclusive", never a verdict.

- Latency: one-sided Mann-Whitney U (candidate stochastically greater). The effect is the
  Hodges-Lehmann shift, the median of every pairwise difference candidate - stable, in ms: a
  robust estimate of how much slower the candidate is that, unlike the difference of medians,
  uses every sample. The medians are shown beside it.
- Errors: one-sided Fisher exact test on [[candidate errors, ok], [stable errors, ok]]; the
  effect is the difference of error rates in percentage points.

The minimum is ``min_samples`` = 20 a side by default: a step probed once a second must hold
20 s. Fewer makes even a complete separation weak evidence, and the error test can only ever
flag big differences: against a stable revision with no errors, the candidate needs 5 errors to
reach p < 0.05 at any sample size (5 of 20 = 25 %, 5 of 300 = 1.7 %).

Pure Python with numpy and scipy: no Django.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.stats import fisher_exact, mannwhitneyu

Outcome = Literal["pass", "fail", "inconclusive"]

MAX_PAIRS = 4_000_000
"""Above this many candidate x stable pairs (32 MB of floats) the shift is estimated from evenly
spaced quantiles of each sample instead of every sample: an hour at one probe a second."""


@dataclass(frozen=True)
class Comparison:
    """The verdict of one comparison, with what was measured and what would have failed it."""

    outcome: Outcome
    p_value: float | None
    effect: float
    """ms slower (latency) or percentage points more errors; negative when the candidate is
    better; 0.0 when inconclusive for lack of samples."""
    measured: str
    threshold: str
    note: str


def latency_comparison(
    candidate_ms: Sequence[float],
    stable_ms: Sequence[float],
    *,
    margin_ms: float,
    alpha: float = 0.05,
    min_samples: int = 20,
) -> Comparison:
    """Compare latency samples: "fail" when the candidate is slower with p < ``alpha`` and its
    Hodges-Lehmann shift exceeds ``margin_ms``; "inconclusive" under ``min_samples`` a side."""
    threshold = f"fails when p < {alpha:g} and > +{margin_ms:g} ms"
    n_cand, n_stable = len(candidate_ms), len(stable_ms)
    if min(n_cand, n_stable) < max(min_samples, 1):
        return _too_few(n_cand, n_stable, min_samples, threshold)

    candidate = np.asarray(candidate_ms, dtype=float)
    stable = np.asarray(stable_ms, dtype=float)
    p_value = _p(mannwhitneyu(candidate, stable, alternative="greater").pvalue)
    shift = hodges_lehmann_shift(candidate, stable)
    measured = (
        f"candidate {shift:+.1f} ms (median {np.median(candidate):.1f} vs "
        f"{np.median(stable):.1f} ms), {_p_text(p_value)}, n = {n_cand}/{n_stable}"
    )
    return _verdict(
        p_value,
        shift,
        alpha=alpha,
        margin=margin_ms,
        unit="ms",
        measured=measured,
        threshold=threshold,
        worse="slower",
    )


def error_comparison(
    candidate_errors: int,
    candidate_total: int,
    stable_errors: int,
    stable_total: int,
    *,
    margin_percent: float,
    alpha: float = 0.05,
    min_samples: int = 20,
) -> Comparison:
    """Compare error counts: "fail" when the candidate errs more with p < ``alpha`` and its error
    rate exceeds the stable one by more than ``margin_percent`` percentage points;
    "inconclusive" when either total is under ``min_samples``."""
    for name, errors, total in (
        ("candidate", candidate_errors, candidate_total),
        ("stable", stable_errors, stable_total),
    ):
        if not 0 <= errors <= total:
            raise ValueError(f"{name} errors must be between 0 and its total {total}, got {errors}")
    threshold = f"fails when p < {alpha:g} and > +{margin_percent:g} percentage points"
    if min(candidate_total, stable_total) < max(min_samples, 1):
        return _too_few(candidate_total, stable_total, min_samples, threshold)

    table = [
        [candidate_errors, candidate_total - candidate_errors],
        [stable_errors, stable_total - stable_errors],
    ]
    p_value = _p(fisher_exact(table, alternative="greater").pvalue)
    cand_rate = 100 * candidate_errors / candidate_total
    stable_rate = 100 * stable_errors / stable_total
    difference = cand_rate - stable_rate
    measured = (
        f"candidate {difference:+.1f} points ({candidate_errors}/{candidate_total} = "
        f"{cand_rate:.1f} % vs {stable_errors}/{stable_total} = {stable_rate:.1f} % errors), "
        f"{_p_text(p_value)}"
    )
    return _verdict(
        p_value,
        difference,
        alpha=alpha,
        margin=margin_percent,
        unit="percentage points",
        measured=measured,
        threshold=threshold,
        worse="more errors",
    )


def hodges_lehmann_shift(candidate: np.ndarray, stable: np.ndarray) -> float:
    """The median of all pairwise differences candidate - stable (both non-empty)."""
    if candidate.size * stable.size > MAX_PAIRS:
        side = math.isqrt(MAX_PAIRS)
        candidate = _quantiles(candidate, side)
        stable = _quantiles(stable, side)
    return float(np.median(np.subtract.outer(candidate, stable)))


def _quantiles(values: np.ndarray, count: int) -> np.ndarray:
    if values.size <= count:
        return values
    return np.quantile(values, np.linspace(0, 1, count))


def _p(raw: float) -> float:
    # scipy answers NaN only when there is no variation to test: no evidence of a difference.
    value = float(raw)
    return 1.0 if math.isnan(value) else value


def _p_text(p_value: float) -> str:
    return "p < 0.0001" if p_value < 0.0001 else f"p = {p_value:.4f}"


def _too_few(n_cand: int, n_stable: int, min_samples: int, threshold: str) -> Comparison:
    return Comparison(
        outcome="inconclusive",
        p_value=None,
        effect=0.0,
        measured=f"n = {n_cand}/{n_stable}",
        threshold=threshold,
        note=(
            f"too few samples to compare: at least {min_samples} needed on each side, "
            f"got {n_cand} (candidate) and {n_stable} (stable); hold the step longer"
        ),
    )


def _verdict(
    p_value: float,
    effect: float,
    *,
    alpha: float,
    margin: float,
    unit: str,
    measured: str,
    threshold: str,
    worse: str,
) -> Comparison:
    significant = p_value < alpha
    beyond = effect > margin
    if significant and beyond:
        outcome: Outcome = "fail"
        note = f"the candidate is significantly {worse}, by more than {margin:g} {unit}"
    elif significant:
        outcome = "pass"
        note = f"a significant difference, but within the {margin:g} {unit} margin"
    elif beyond:
        outcome = "pass"
        note = f"beyond the {margin:g} {unit} margin, but not significant (p ≥ {alpha:g})"
    else:
        outcome = "pass"
        note = "no significant difference"
    return Comparison(outcome, p_value, effect, measured, threshold, note)
