"""The canary comparison against values computed by hand (in the comments)."""

from __future__ import annotations

import random

import pytest

from runs.canary_stats import error_comparison, latency_comparison


def test_mann_whitney_exact_p_matches_the_count_of_arrangements():
    # candidate [4, 6, 8], stable [1, 2, 3, 5], no ties. U = pairs candidate > stable:
    # 4 beats 1,2,3 (3); 6 beats all four (4); 8 beats all four (4) -> U = 11 of 12.
    # Under the null every choice of 3 ranks of 7 for the candidate is equally likely: C(7,3) = 35.
    # U = R - 3*4/2 = R - 6 >= 11 needs a rank sum R >= 17: {5,6,7} (18) and {4,6,7} (17).
    # p = 2/35 = 0.0571428...
    # Pairwise differences: 3,2,1,-1 | 5,4,3,1 | 7,6,5,3 -> sorted -1,1,1,2,3,3,3,4,5,5,6,7,
    # median of the 12 = (3 + 3) / 2 = 3 ms.
    result = latency_comparison([4, 6, 8], [1, 2, 3, 5], margin_ms=2, min_samples=3)

    assert result.p_value == pytest.approx(2 / 35)
    assert result.effect == pytest.approx(3.0)
    # 3 ms is beyond the 2 ms margin, but p = 0.057 is not below 0.05: a large shift that is
    # not significant passes.
    assert result.outcome == "pass"
    assert "not significant" in result.note


def test_a_significant_shift_beyond_the_margin_fails():
    # candidate [10..13] all above stable [1..4]: U = 16, only 1 arrangement of C(8,4) = 70
    # reaches it, p = 1/70 = 0.0142857. Differences 6..12, 16 of them; sorted
    # 6,7,7,8,8,8,9,9,9,9,10,10,10,11,11,12 -> median (9 + 9) / 2 = 9 ms.
    result = latency_comparison([10, 11, 12, 13], [1, 2, 3, 4], margin_ms=5, min_samples=4)

    assert result.p_value == pytest.approx(1 / 70)
    assert result.effect == pytest.approx(9.0)
    assert result.outcome == "fail"
    assert result.measured == "candidate +9.0 ms (median 11.5 vs 2.5 ms), p = 0.0143, n = 4/4"
    assert result.threshold == "fails when p < 0.05 and > +5 ms"


def test_the_same_shift_within_the_margin_passes():
    result = latency_comparison([10, 11, 12, 13], [1, 2, 3, 4], margin_ms=10, min_samples=4)

    assert result.outcome == "pass"
    assert "within the 10 ms margin" in result.note


def test_a_2_ms_slowdown_is_significant_but_not_a_regression():
    rng = random.Random(7)
    stable = [10 + rng.uniform(0, 0.5) for _ in range(60)]
    candidate = [value + 2 for value in stable]

    result = latency_comparison(candidate, stable, margin_ms=20)

    assert result.p_value is not None and result.p_value < 1e-6
    assert result.effect == pytest.approx(2.0, abs=0.3)
    assert result.outcome == "pass"
    assert "p < 0.0001" in result.measured


def test_the_slow_demo_build_fails_on_a_50_ms_slowdown():
    rng = random.Random(3)
    stable = [rng.uniform(2, 8) for _ in range(30)]
    candidate = [50 + rng.uniform(2, 8) for _ in range(30)]

    result = latency_comparison(candidate, stable, margin_ms=20)

    assert result.outcome == "fail"
    assert 45 < result.effect < 55


def test_a_faster_candidate_passes():
    result = latency_comparison([1, 2, 3, 4], [10, 11, 12, 13], margin_ms=0, min_samples=4)

    # U = 0: every arrangement has U >= 0, p = 1.
    assert result.p_value == pytest.approx(1.0)
    assert result.effect == pytest.approx(-9.0)
    assert result.outcome == "pass"


@pytest.mark.parametrize(("n_candidate", "n_stable"), [(19, 40), (40, 19), (0, 0)])
def test_fewer_than_min_samples_on_a_side_is_inconclusive(n_candidate, n_stable):
    result = latency_comparison(
        [500.0] * n_candidate, [1.0 + i for i in range(n_stable)], margin_ms=20
    )

    assert result.outcome == "inconclusive"
    assert result.p_value is None
    assert "at least 20 needed" in result.note


def test_identical_samples_pass():
    samples = [float(v) for v in range(1, 31)]

    result = latency_comparison(samples, list(samples), margin_ms=20)

    assert result.outcome == "pass"
    assert result.effect == 0.0
    assert result.p_value is not None and result.p_value > 0.4


def test_all_equal_values_do_not_crash():
    result = latency_comparison([5.0] * 30, [5.0] * 30, margin_ms=0)

    assert result.outcome == "pass"
    assert result.effect == 0.0
    assert result.p_value == pytest.approx(1.0)


def test_fisher_one_sided_p_sums_the_hypergeometric_tail():
    # [[4, 6], [1, 9]]: 5 errors among 20 probes, 10 of them the candidate's.
    # P(X = k) = C(10, k) C(10, 5 - k) / C(20, 5), C(20, 5) = 15504.
    # P(X >= 4) = (C(10,4) C(10,1) + C(10,5) C(10,0)) / 15504 = (210*10 + 252) / 15504
    #           = 2352 / 15504 = 0.151702...
    # Error rates 40 % vs 10 %: +30 percentage points.
    result = error_comparison(4, 10, 1, 10, margin_percent=5, min_samples=10)

    assert result.p_value == pytest.approx(2352 / 15504)
    assert result.effect == pytest.approx(30.0)
    assert result.outcome == "pass"
    assert result.measured == (
        "candidate +30.0 points (4/10 = 40.0 % vs 1/10 = 10.0 % errors), p = 0.1517"
    )


def test_significantly_more_errors_beyond_the_margin_fail():
    # [[5, 5], [0, 10]]: only X = 5 is as extreme; P = C(10,5) C(10,0) / C(20,5)
    #   = 252 / 15504 = 0.016253...
    result = error_comparison(5, 10, 0, 10, margin_percent=5, min_samples=10)

    assert result.p_value == pytest.approx(252 / 15504)
    assert result.effect == pytest.approx(50.0)
    assert result.outcome == "fail"
    assert result.threshold == "fails when p < 0.05 and > +5 percentage points"


def test_a_significant_error_difference_within_the_margin_passes():
    result = error_comparison(40, 1000, 10, 1000, margin_percent=5)

    assert result.p_value is not None and result.p_value < 0.001
    assert result.effect == pytest.approx(3.0)
    assert result.outcome == "pass"


def test_no_errors_on_either_side_passes():
    result = error_comparison(0, 30, 0, 30, margin_percent=1)

    assert result.outcome == "pass"
    assert result.p_value == pytest.approx(1.0)
    assert result.effect == 0.0


def test_fewer_error_samples_than_the_minimum_is_inconclusive():
    result = error_comparison(10, 10, 0, 50, margin_percent=1)

    assert result.outcome == "inconclusive"
    assert result.p_value is None


def test_more_errors_than_probes_is_refused():
    with pytest.raises(ValueError, match="between 0 and its total 10"):
        error_comparison(11, 10, 0, 10, margin_percent=1)


def test_against_a_clean_stable_revision_five_candidate_errors_are_needed():
    # With no stable errors only the table itself is as extreme: P = C(20, k) / C(40, k).
    # k = 4: 4845 / 91390 = 0.0530 (not significant); k = 5: 15504 / 658008 = 0.0236.
    four = error_comparison(4, 20, 0, 20, margin_percent=5)
    five = error_comparison(5, 20, 0, 20, margin_percent=5)

    assert four.p_value == pytest.approx(4845 / 91390)
    assert four.outcome == "pass"
    assert five.p_value == pytest.approx(15504 / 658008)
    assert five.outcome == "fail"


def test_a_long_hold_estimates_the_shift_from_quantiles_without_running_out_of_memory():
    # 2,500 x 2,500 pairs is over MAX_PAIRS: the shift comes from 2,000 quantiles a side.
    rng = random.Random(5)
    stable = [rng.uniform(5, 15) for _ in range(2500)]
    candidate = [30 + rng.uniform(5, 15) for _ in range(2500)]

    result = latency_comparison(candidate, stable, margin_ms=20)

    assert result.effect == pytest.approx(30, abs=0.5)
    assert result.outcome == "fail"
