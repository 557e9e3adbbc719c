"""From bars to a decision: indicators, strategies, the regime policy, the ensemble and its
weights; `pipeline` computes them over a whole frame for backtests."""
