"""Risk you can see and prove: VaR and Expected Shortfall, Monte Carlo, stress scenarios,
the risk score and the compliance report. The gate's rules live in engine.trading.risk."""
