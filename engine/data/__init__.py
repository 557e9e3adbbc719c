"""Market data: OHLCV files, shipped datasets and the simulated market.

Kept light on purpose: import the submodule you need (`engine.data.sources`,
`engine.data.sim`, ...) so that importing the package costs nothing.
"""
