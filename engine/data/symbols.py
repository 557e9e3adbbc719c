"""Per-symbol parameters of the simulated market: starting price, volatility, liquidity.

BTC/USDT, ETH/USDT and SOL/USDT look like themselves; any other symbol gets parameters
derived from a checksum of its name, so the same name always trades the same way.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class SymbolProfile:
    price: float  # starting price, quote currency
    annual_vol: float  # annualized volatility of log returns in a calm market
    daily_notional: float  # average traded value per day, quote currency
    market_loading: float  # loading on the common crypto factor: sets correlations


KNOWN: dict[str, SymbolProfile] = {
    "BTC/USDT": SymbolProfile(60_000.0, 0.55, 2.0e9, 0.92),
    "ETH/USDT": SymbolProfile(3_000.0, 0.70, 1.0e9, 0.88),
    "SOL/USDT": SymbolProfile(150.0, 0.90, 4.0e8, 0.82),
}


def profile(symbol: str) -> SymbolProfile:
    if symbol in KNOWN:
        return KNOWN[symbol]
    # crc32 rather than hash(): Python salts str hashes per process.
    u = np.random.default_rng(zlib.crc32(symbol.encode())).random(4)
    return SymbolProfile(
        price=float(10 ** (-1 + 4 * u[0])),  # 0.1 .. 1000
        annual_vol=float(0.6 + 0.5 * u[1]),
        daily_notional=float(10 ** (7 + 1.5 * u[2])),
        market_loading=float(0.75 + 0.1 * u[3]),
    )


def correlation(profiles: list[SymbolProfile]) -> np.ndarray:
    """One-factor correlation b_i * b_j: positive definite for any set of symbols.

    BTC/ETH 0.81, BTC/SOL 0.75, ETH/SOL 0.72; other pairs 0.56 .. 0.78.
    """
    b = np.array([p.market_loading for p in profiles])
    corr = np.outer(b, b)
    np.fill_diagonal(corr, 1.0)
    return corr
