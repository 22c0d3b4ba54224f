"""Timing statistics against values computed by hand (and by the statistics module)."""

from __future__ import annotations

import statistics

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_report_fixtures import sample_result

from pmipct_check.report import timings


def test_stats_by_hand():
    s = timings.stats([0.004, 0.001, 0.003, 0.002])
    assert (s.count, s.min, s.max) == (4, 0.001, 0.004)
    assert s.median == pytest.approx(0.0025)
    assert s.p95 == pytest.approx(0.001 + 0.003 * (0.95 * 3) / 3)  # rank 2.85 between 0.003 and 0.004
    assert s.p95 == pytest.approx(0.00385)
    assert timings.stats([]) is None


@given(st.lists(st.floats(min_value=0, max_value=100, allow_nan=False), min_size=1, max_size=50))
def test_stats_agree_with_statistics_module(values):
    s = timings.stats(values)
    assert s.median == pytest.approx(statistics.median(values), abs=1e-9)
    assert s.min <= s.median <= s.p95 <= s.max
    # numpy's default (linear) percentile = statistics.quantiles(method="inclusive")
    if len(values) > 1:
        q = statistics.quantiles(values, n=20, method="inclusive")[18]
        assert s.p95 == pytest.approx(q, abs=1e-9)


def test_timing_keys_known_first():
    result = sample_result()
    keys = timings.timing_keys(result.handovers)
    assert keys[:3] == ["pbu_pba", "ctreq_ctd", "ctd_ctdr"]
    assert timings.timing_stats(result.handovers)["pbu_pba"].count == 4
    assert timings.label("pbu_pba") == "PBU → PBA"
    assert timings.label("pbu_pba", ascii_only=True) == "PBU -> PBA"
    assert timings.label("brand_new") == "brand_new"


@pytest.mark.parametrize(("seconds", "text"), [
    (0.0012345, "1.2 ms"), (0.449, "449 ms"), (0.00075, "0.750 ms"), (1.5, "1.500 s"), (12.0, "12.00 s"),
    (None, "-"), (float("nan"), "-"),
])
def test_ms(seconds, text):
    assert timings.ms(seconds) == text
