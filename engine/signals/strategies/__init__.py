"""Trading strategies: causal signal generators over bar frames.

Kept import-free so that importing the package costs nothing: use
`engine.signals.strategies.registry` for the catalogue and `engine.signals.strategies.base`
for the port.
"""
