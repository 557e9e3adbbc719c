"""The trading kernel and its rules: decisions become sized, gated orders (trader, risk),
fills move the portfolio, trades and stops follow; the journal port records it all."""
