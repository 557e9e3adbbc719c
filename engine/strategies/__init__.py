"""Trading strategies: causal signal generators over bar frames.

Kept import-free so that importing the package costs nothing: use
`engine.strategies.registry` for the catalogue and `engine.strategies.base` for the port.
"""
