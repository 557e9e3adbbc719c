"""Execution: one approved order becomes child orders over time (market, smart, TWAP, VWAP,
DCA), in sessions persisted to the store so that a restart resumes them and never places a
child twice.

- `schedule`: pure functions from an order to planned parts (due time, quantity).
- `session`: the session and part records, deterministic child client order ids.
- `manager`: `ExecutionManager`, which starts, ticks, fills, cancels and recovers sessions.
- `quality`: implementation shortfall and market VWAP of a finished session.
"""
