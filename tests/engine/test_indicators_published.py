"""Indicators against published worked examples.

The numbers are StockCharts ChartSchool's spreadsheets that accompany the indicator pages
(cs-rsi.xls: QQQQ closes and 14-day RSI; cs-atr.xls: QQQQ bars and 14-day ATR;
cs-bbands.xls: SPY closes and Bollinger Bands (20, 2)), typed in by hand. The spreadsheets
print 4-6 decimals, which sets the tolerances.
"""

from __future__ import annotations

import numpy as np
import pytest

from engine.signals import indicators as ind

RSI_CLOSE = [
    44.3389, 44.0902, 44.1497, 43.6124, 44.3278, 44.8264, 45.0955, 45.4245, 45.8433,
    46.0826, 45.8931, 46.0328, 45.6140, 46.2820, 46.2820, 46.0028, 46.0328, 46.4116,
    46.2222, 45.6439, 46.2122, 46.2521, 45.7137, 46.4515, 45.7835, 45.3548, 44.0288,
    44.1783, 44.2181, 44.5672, 43.4205, 42.6628, 43.1314,
]  # fmt: skip
# The first RSI is printed on the 15th close: 14 changes are needed to seed it.
RSI_PUBLISHED = [
    70.5328, 66.3186, 66.5498, 69.4063, 66.3552, 57.9749, 62.9296, 63.2571, 56.0593,
    62.3771, 54.7076, 50.4228, 39.9898, 41.4605, 41.8689, 45.4632, 37.3040, 33.0795,
    37.7730,
]  # fmt: skip

ATR_HIGH = [
    48.70, 48.72, 48.90, 48.87, 48.82, 49.05, 49.20, 49.35, 49.92, 50.19, 50.12, 49.66,
    49.88, 50.19, 50.36, 50.57, 50.65, 50.43, 49.63, 50.33, 50.29, 50.17, 49.32, 48.50,
    48.3201, 46.80, 47.80, 48.39, 48.66, 48.79,
]  # fmt: skip
ATR_LOW = [
    47.79, 48.14, 48.39, 48.37, 48.24, 48.635, 48.94, 48.86, 49.50, 49.87, 49.20, 48.90,
    49.43, 49.725, 49.26, 50.09, 50.30, 49.21, 48.98, 49.61, 49.20, 49.43, 48.08, 47.64,
    41.55, 44.2833, 47.31, 47.20, 47.90, 47.7301,
]  # fmt: skip
ATR_CLOSE = [
    48.16, 48.61, 48.75, 48.63, 48.74, 49.03, 49.07, 49.32, 49.91, 50.13, 49.53, 49.50,
    49.75, 50.03, 50.31, 50.52, 50.41, 49.34, 49.37, 50.23, 49.2375, 49.93, 48.43, 48.18,
    46.57, 45.41, 47.77, 47.72, 48.62, 47.85,
]  # fmt: skip
TR_PUBLISHED = [
    0.91, 0.58, 0.51, 0.50, 0.58, 0.415, 0.26, 0.49, 0.60, 0.32, 0.93, 0.76, 0.45, 0.465,
    1.10, 0.48, 0.35, 1.22, 0.65, 0.96, 1.09, 0.9325, 1.85, 0.86, 6.7701, 2.5167, 2.39,
    1.19, 0.94, 1.0599,
]  # fmt: skip
# The first ATR (bar 14) is the mean of the first 14 true ranges.
ATR_PUBLISHED = [
    0.555, 0.593929, 0.585791, 0.568949, 0.615452, 0.617920, 0.642354, 0.674329,
    0.692770, 0.775429, 0.781470, 1.209229, 1.302620, 1.380290, 1.366698, 1.336219,
    1.316482,
]  # fmt: skip

BB_CLOSE = [
    86.1557, 89.0867, 88.7829, 90.3228, 89.0671, 91.1453, 89.4397, 89.1750, 86.9302,
    87.6752, 86.9596, 89.4299, 89.3221, 88.7241, 87.4497, 87.2634, 89.4985, 87.9006,
    89.1260, 90.7043, 92.9001, 92.9784, 91.8021, 92.6647, 92.6843, 92.3021, 92.7725,
    92.5373, 92.9490, 93.2039, 91.0669, 89.8318, 89.7435, 90.3994, 90.7387, 88.0177,
    88.0867, 88.8439, 90.7781, 90.5416, 91.3894, 90.6500,
]  # fmt: skip
# Bars 19.. (the first full 20-bar window), middle band, upper and lower.
BB_MID = [
    88.70794, 89.04516, 89.239745, 89.390705, 89.5078, 89.68866, 89.7465, 89.91314,
    90.081255, 90.382195, 90.65863, 90.863995, 90.88409, 90.90516, 90.988925, 91.153375,
    91.19109, 91.1205, 91.167665, 91.25027, 91.242135, 91.1666, 91.05018,
]  # fmt: skip
BB_UPPER = [
    91.291862, 91.949268, 92.612595, 92.9342, 93.31195, 93.72845, 93.899592, 94.266255,
    94.565096, 94.786912, 95.043001, 94.907605, 94.902912, 94.89532, 94.861013, 94.673629,
    94.556593, 94.678752, 94.575786, 94.534271, 94.532306, 94.369251, 94.148503,
]  # fmt: skip
BB_LOWER = [
    86.124018, 86.141052, 85.866895, 85.84721, 85.70365, 85.64887, 85.593408, 85.560025,
    85.597414, 85.977478, 86.274259, 86.820385, 86.865268, 86.915, 87.116837, 87.633121,
    87.825587, 87.562248, 87.759544, 87.966269, 87.951964, 87.963949, 87.951857,
]  # fmt: skip


def test_rsi_matches_stockcharts_worked_example():
    got = ind.rsi(np.array(RSI_CLOSE), 14)

    assert np.isnan(got[:14]).all()
    np.testing.assert_allclose(got[14:], RSI_PUBLISHED, atol=5e-5)


def test_true_range_matches_stockcharts_worked_example():
    got = ind.true_range(ATR_HIGH, ATR_LOW, ATR_CLOSE)

    np.testing.assert_allclose(got, TR_PUBLISHED, atol=5e-9)


def test_atr_matches_stockcharts_worked_example():
    got = ind.atr(ATR_HIGH, ATR_LOW, ATR_CLOSE, 14)

    assert np.isnan(got[:13]).all()
    np.testing.assert_allclose(got[13:], ATR_PUBLISHED, atol=5e-7)


def test_bollinger_matches_stockcharts_worked_example():
    bands = ind.bollinger(np.array(BB_CLOSE), 20, 2.0)

    assert np.isnan(bands.mid[:19]).all()
    np.testing.assert_allclose(bands.mid[19:], BB_MID, atol=5e-6)
    np.testing.assert_allclose(bands.upper[19:], BB_UPPER, atol=5e-6)
    np.testing.assert_allclose(bands.lower[19:], BB_LOWER, atol=5e-6)
    np.testing.assert_allclose(
        bands.width[19:],
        (np.array(BB_UPPER) - np.array(BB_LOWER)) / np.array(BB_MID),
        atol=1e-6,
    )


@pytest.mark.parametrize("period", [5, 10, 20])
def test_momentum_is_the_rate_of_change_over_the_period(period):
    close = np.array(BB_CLOSE)

    got = ind.momentum(close, period)

    assert np.isnan(got[:period]).all()
    expected = [close[t] / close[t - period] - 1.0 for t in range(period, len(close))]
    np.testing.assert_allclose(got[period:], expected, rtol=1e-14)
