"""Strategy lifecycle: attribution of closed trades, performance decomposition, bounded
adaptive weights and retirement (health, suspension, recovery)."""
