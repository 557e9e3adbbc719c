"""Live wiring: the store, the instance lock, the feed, the broker and the engine that the
configuration names. The desk, `desk --headless`, the tests and the benchmarks all build
the live engine here, so none of them wires anything itself."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from engine.config.schema import Config
from engine.errors import DeskError
from engine.live.engine import LiveEngine
from engine.live.feeds import Feed


def build_live(cfg: Config, *, passphrase: Callable[[str], str] | None = None,
               feed: Feed | None = None, wall_clock: Callable[[], datetime] | None = None,
               market_stream: Callable[[], object] | None = None) -> LiveEngine:
    """The live engine for `cfg`, not started. It holds the database's instance lock (one
    desk per database) until `engine.stop()`. `passphrase(exchange)` is asked for the vault
    passphrase when `[broker] kind = "ccxt"`. Tests and benchmarks may hand in their own
    feed, wall clock and trade stream; everything else comes from `cfg`."""
    from engine.adapters.sqlite.open import acquire_instance_lock, open_store

    if feed is None and cfg.feed.kind != "ccxt":
        # Local data (a replay file, the simulated market) is read first: a bad file stops
        # with its one line before a database is created or locked.
        feed = build_feed(cfg)
    store = open_store(cfg)
    try:
        lock = acquire_instance_lock(store)
    except BaseException:
        store.close(checkpoint=False)  # another desk is running: write nothing
        raise
    try:
        from engine.adapters.sqlite.optimization import with_applied_params

        cfg = with_applied_params(cfg, store)  # sets applied by `desk optimize --apply`
        broker = build_broker(cfg, store, passphrase)
        feed = feed or build_feed(cfg)
        engine = LiveEngine(cfg, store=store, feed=feed, broker=broker, wall_clock=wall_clock,
                            market_stream=market_stream or build_market_stream(cfg, feed))
    except BaseException:
        lock.release()
        store.close(checkpoint=False)
        raise
    engine.instance_lock = lock
    return engine


def build_feed(cfg: Config) -> Feed:
    """The feed `[feed]` names."""
    from engine.live.feeds import ReplayFeed, SimFeed

    if cfg.feed.kind == "sim":
        return SimFeed(cfg.feed.symbols, seed=cfg.feed.seed, freq=cfg.feed.freq,
                       history_bars=cfg.feed.history_bars,
                       flow_updates=cfg.microstructure.sim_updates,
                       flow_levels=cfg.microstructure.depth_levels)
    if cfg.feed.kind == "replay":
        from engine.data.sources import load_source

        if not cfg.feed.source:
            raise DeskError(f"{cfg.source}: [feed] source: kind = \"replay\" needs a source")
        market = load_source(cfg.feed.source)
        if market.recording is not None:  # recorded microstructure: bars and book streams
            from engine.microstructure.board import flow_params
            from engine.microstructure.replay import RecordingFeed

            return RecordingFeed(market.recording, flow_params(cfg))
        return ReplayFeed(market.frames)
    from engine.venues.ccxt.feeds import CcxtPollingFeed, WebsocketKlineFeed
    from engine.venues.ccxt.fetch import Retry, build_exchange, url_overrides

    exchange = build_exchange(cfg.broker.exchange, symbol=cfg.feed.symbols[0])
    if cfg.broker.sandbox and hasattr(exchange, "set_sandbox_mode"):
        exchange.set_sandbox_mode(True)
        exchange.urls["api"].update(url_overrides())  # the sandbox swap replaced them
    timeframe = _timeframe(cfg.feed.freq)
    startup = Retry.for_startup(float(cfg.broker.startup_timeout))
    if cfg.feed.stream_url:
        return WebsocketKlineFeed(cfg.feed.stream_url, cfg.feed.symbols, timeframe, exchange,
                                  cfg.feed.history_bars, startup=startup)
    return CcxtPollingFeed(exchange, cfg.feed.symbols, timeframe, cfg.feed.history_bars,
                           startup=startup)


def build_market_stream(cfg: Config, feed: Feed) -> Callable[[], object] | None:
    """Trades and books over websockets, beside an exchange feed with a `stream_url`."""
    if cfg.feed.kind != "ccxt" or not cfg.feed.stream_url:
        return None
    from engine.venues.ccxt.market_stream import MarketStream

    def build() -> MarketStream:
        # Built on the engine's thread after the history: the markets are loaded by then.
        exchange = feed.exchange  # type: ignore[attr-defined]
        return MarketStream(cfg.feed.stream_url,
                            {s: exchange.market(s)["id"] for s in cfg.feed.symbols},
                            rest_exchange=exchange)

    return build


def build_broker(cfg: Config, store, passphrase: Callable[[str], str] | None):
    """The exchange broker `[broker] kind = "ccxt"` names, with keys from the vault (the
    passphrase from DESK_VAULT_PASSPHRASE, else `passphrase`); None for the paper broker."""
    if cfg.broker.kind == "paper":
        return None
    import os

    from engine.adapters.sqlite.open import vault
    from engine.venues.ccxt.broker import from_config
    from engine.venues.ccxt.fetch import url_overrides

    secret = os.environ.get("DESK_VAULT_PASSPHRASE")
    if not secret:
        if passphrase is None:
            raise DeskError(f"[broker] kind = \"ccxt\": the {cfg.broker.exchange} keys need "
                            "the vault passphrase (set DESK_VAULT_PASSPHRASE)")
        secret = passphrase(cfg.broker.exchange)
    return from_config(cfg, vault(store), secret, urls=url_overrides() or None)


def _timeframe(freq: str) -> str:
    """A pandas bar interval ("1min", "1h", "1D") as a ccxt timeframe ("1m", "1h", "1d")."""
    from engine.live.feeds import freq_seconds

    seconds = int(freq_seconds(freq))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    raise DeskError(f"[feed] freq = {freq!r} has no exchange timeframe")
