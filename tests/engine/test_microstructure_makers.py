"""Market-maker detection: a persistent two-sided quoter scores high, one-sided bursts
score low, a maker's mean-reverting inventory is told from a random walk, and a maker
backing away is a withdrawal event."""

from __future__ import annotations

import numpy as np
import pytest

from engine.microstructure.makers import NEVER, MakerDetector

WINDOW, Z_WINDOW = 50, 300


def detector() -> MakerDetector:
    return MakerDetector(WINDOW, Z_WINDOW, spread_ratio=2.0, depth_ratio=0.3)


def two_sided_quoter(d: MakerDetector, n: int, seed: int = 3) -> None:
    """Two ticks wide, about one unit a side, re-quoted every 0.1 s; the quote follows the
    price a tick at a time."""
    rng = np.random.default_rng(seed)
    bid = 100.0
    for i in range(n):
        if rng.random() < 0.2:
            bid += 0.01 * rng.choice([-1, 1])
        d.on_quote(i * 0.1, round(bid, 2), float(rng.lognormal(0, 0.2)), round(bid + 0.02, 2),
                   float(rng.lognormal(0, 0.2)))


def one_sided_bursts(d: MakerDetector, n: int, seed: int = 4) -> None:
    """Bursts of ten updates where one side is stacked and the other nearly empty and far
    away, the side switching from burst to burst: nobody quotes both sides."""
    rng = np.random.default_rng(seed)
    for i in range(n):
        stacked, empty = float(rng.lognormal(1.0, 0.2)), float(rng.lognormal(-4.0, 0.5))
        gap = 0.02 * (1 + int(rng.integers(0, 8)))
        if (i // 10) % 2:
            d.on_quote(i * 0.1, 100.0, stacked, round(100.0 + gap, 2), empty)
        else:
            d.on_quote(i * 0.1, round(100.0 - gap, 2), empty, 100.0 + 0.02, stacked)


def test_persistent_two_sided_quoter_scores_high():
    d = detector()
    two_sided_quoter(d, 1000)
    reading = d.reading()
    assert reading.persistence > 0.9
    assert reading.score > 0.8
    assert reading.replace_share > 0.9
    assert reading.refresh_rate == pytest.approx(10.0, rel=0.15)  # every update re-quotes
    assert not reading.withdrawn


def test_one_sided_bursts_score_low():
    d = detector()
    one_sided_bursts(d, 1000)
    reading = d.reading()
    assert reading.persistence < 0.2
    assert reading.score < 0.3


def test_a_maker_backing_away_is_one_withdrawal_event():
    d = detector()
    two_sided_quoter(d, 400)
    assert d.reading().since_withdrawal == NEVER
    for k in range(5):  # spread x5, touch a tenth: the maker has left
        d.on_quote(40.0 + k * 0.1, 99.95, 0.1, 100.05, 0.1)
    reading = d.reading()
    assert reading.withdrawn and reading.withdrawals == 1 and reading.since_withdrawal == 4
    assert reading.persistence < 0.95


def test_inventory_mean_reversion_is_told_from_a_random_walk():
    rng = np.random.default_rng(6)
    d = detector()
    two_sided_quoter(d, 100)
    inventory = 0.0
    for _ in range(2000):
        # The maker leans its quotes: long inventory makes buyers likelier to lift it.
        p_buy = 1 / (1 + np.exp(-inventory))
        aggressor = 1 if rng.random() < p_buy else -1
        d.on_trade(100.0, 1.0, aggressor, maker="mm")
        inventory -= aggressor
        d.on_trade(100.0, 1.0, int(rng.choice([-1, 1])), maker="walker")
    reading = d.reading()
    assert reading.maker == "mm"
    assert reading.reversion > 0.5

    walker = MakerDetector(WINDOW, Z_WINDOW, 2.0, 0.3)
    walk = np.random.default_rng(7)
    for _ in range(2000):
        walker.on_trade(100.0, 1.0, int(walk.choice([-1, 1])), maker="walker")
    assert walker.reading().reversion < reading.reversion / 2


def test_trades_at_the_touch_are_not_cancels():
    d = detector()
    d.on_quote(0.0, 100.0, 5.0, 100.02, 5.0)
    d.on_trade(100.0, 2.0, -1)  # a seller hits the bid for 2
    d.on_quote(0.1, 100.0, 3.0, 100.02, 5.0)
    assert d.reading().refresh_rate == 0.0
    d.on_quote(0.2, 100.0, 1.0, 100.02, 5.0)  # 2 vanished without a trade: a cancel
    assert d.reading().refresh_rate == pytest.approx(1 / 0.2)


def test_the_inventory_t_statistic_is_the_ols_one():
    """Dickey-Fuller regression of Δinventory on inventory with a constant over the last
    window of trades, against statsmodels' OLS on the same rows."""
    import statsmodels.api as sm

    from engine.microstructure.makers import _Inventory

    rng = np.random.default_rng(8)
    window = 120
    inventory = _Inventory(window)
    levels, changes = [], []
    level = 0.0
    for _ in range(1000):  # several exact rebuilds of the running sums on the way
        change = float(-0.2 * level + rng.normal())
        levels.append(level)
        changes.append(change)
        inventory.add(change)
        level += change
    x = np.array(levels[-window:])
    fit = sm.OLS(np.array(changes[-window:]), sm.add_constant(x)).fit()
    assert inventory.t_statistic() == pytest.approx(fit.tvalues[1], rel=1e-9)
    assert inventory.reversion() == pytest.approx(1 - np.exp((fit.tvalues[1] + 2.86) / 4))
