"""Exchanges through ccxt: the broker, REST and websocket feeds, the trade and book stream,
and candle downloads (`desk data fetch`)."""
