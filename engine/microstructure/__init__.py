"""Order-flow analysis of a book and trade stream: imbalance, market makers, HFT signals.

Every detector takes one event at a time in O(1) (plain floats, ring buffers with running
sums), so the same code follows a live exchange stream, the simulated market and a replay of
a recorded file. Kept import-free: import the modules you need.
"""
