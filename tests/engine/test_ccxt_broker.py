"""CcxtBroker against the fake Binance: precision, faults, unknown outcomes, fills once."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from decimal import Decimal as D

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.brokers.base import (
    DuplicateOrderError,
    InvalidOrderError,
    OrderOutcomeUnknown,
    OrderRejected,
)
from engine.types import Bar, OrderRequest, OrderSide, OrderStatus, OrderType
from engine.venues.ccxt.broker import CcxtBroker, from_config
from engine.venues.ccxt.errors import ExchangeUnavailable
from store.vault import ApiCredentials
from tests.fakes.exchange import FakeExchange

KEYS = ApiCredentials("AKIA-test-key-0042", "s3cr3t-test-value-0042")
POST_ORDER = ("POST", "/api/v3/order")


@pytest.fixture(scope="module")
def fake():
    with FakeExchange(ws_port=None) as running:
        yield running


@pytest.fixture(autouse=True)
def calm(fake):
    fake.set_faults(
        rate_limit=0,
        server_error=0,
        accept_then_timeout=0,
        reject_then_timeout=0,
        drop=False,
        stall_s=1.0,
        fill_slices=1,
    )


_ids = itertools.count()


def cid(name: str = "o") -> str:
    return f"{name}-{next(_ids)}"


def make(fake, sleeps: list | None = None, **kwargs) -> CcxtBroker:
    record = sleeps.append if sleeps is not None else (lambda _s: None)
    kwargs.setdefault("timeout_ms", 300)
    return CcxtBroker("binance", KEYS, sandbox=False, urls=fake.ccxt_urls(), sleep=record, **kwargs)


def market(symbol: str, qty: str, side=OrderSide.BUY, **kwargs) -> OrderRequest:
    kwargs.setdefault("client_order_id", cid())
    return OrderRequest(symbol, side, D(qty), **kwargs)


def bar(symbol: str) -> Bar:
    return Bar(symbol, datetime(2026, 1, 1, tzinfo=UTC), 1.0, 1.0, 1.0, 1.0, 1.0)


def price(fake, symbol: str) -> D:
    return D(fake.state()["prices"][symbol])


# -- precision and minimums -------------------------------------------------------------


def test_amount_truncated_to_the_step_and_price_rounded_to_the_tick(fake):
    broker = make(fake)
    order = market("BTC/USDT", "0.0123456")
    broker.submit(order)
    view = broker.fetch_order(order.client_order_id)
    assert view.qty == D("0.01234") and view.status == OrderStatus.FILLED
    assert view.avg_price == price(fake, "BTC/USDT") and isinstance(view.avg_price, D)
    limit = market(
        "ETH/USDT",
        "0.5",
        type=OrderType.LIMIT,
        limit_price=price(fake, "ETH/USDT") / 2 + D("0.004"),
    )
    broker.submit(limit)
    assert broker.fetch_order(limit.client_order_id).limit_price == (
        price(fake, "ETH/USDT") / 2
    ).quantize(D("0.01"))
    assert broker.cancel(limit.client_order_id)


@pytest.mark.parametrize(
    ("qty", "ref", "named"),
    [("0.000004", None, "limits.amount.min"), ("0.00005", "60000", "limits.cost.min")],
)
def test_local_minimums_refuse_before_anything_is_sent(fake, qty, ref, named):
    broker = make(fake)
    broker.load_markets()
    before = fake.count(*POST_ORDER)
    order = market("BTC/USDT", qty, ref_price=D(ref) if ref else None)
    with pytest.raises(InvalidOrderError, match=named):
        broker.submit(order)
    assert fake.count(*POST_ORDER) == before and order.client_order_id not in fake.received


def test_exchange_refusals_carry_the_exchange_reason(fake):
    broker = make(fake)
    poor = market("BTC/USDT", "50")
    with pytest.raises(OrderRejected) as raised:
        broker.submit(poor)
    assert raised.value.reason == "Account has insufficient balance for requested action."
    # No ref_price: the cost minimum is left to the exchange, whose filter says no.
    tiny = market("BTC/USDT", "0.00005")
    with pytest.raises(OrderRejected, match="Filter failure: NOTIONAL"):
        broker.submit(tiny)
    assert broker.fetch_order(poor.client_order_id) is None


# -- rate limits and server errors --------------------------------------------------------


def test_429_waits_out_retry_after_then_succeeds_with_one_order(fake):
    sleeps: list[float] = []
    broker = make(fake, sleeps)
    broker.load_markets()
    fake.set_faults(rate_limit=2, retry_after=3)
    before = fake.count(*POST_ORDER)
    order = market("SOL/USDT", "1")
    broker.submit(order)
    assert sleeps == [3.0, 3.0]
    assert fake.count(*POST_ORDER) - before == 3
    assert fake.received[order.client_order_id] == 3  # rejected at the door twice
    assert fake.venue.created[order.client_order_id] == 1


def test_backoff_is_exponential_and_bounded(fake):
    sleeps: list[float] = []
    broker = make(fake, sleeps, max_retries=3, backoff_s=0.5)
    broker.load_markets()
    fake.set_faults(rate_limit=10, retry_after=0)
    order = market("SOL/USDT", "1")
    with pytest.raises(ExchangeUnavailable):
        broker.submit(order)
    assert sleeps == [0.5, 1.0, 2.0]
    assert order.client_order_id not in fake.venue.created
    fake.set_faults(rate_limit=0)
    broker.submit(order)  # nothing was placed: the same id goes through now
    assert fake.venue.created[order.client_order_id] == 1


def test_5xx_on_reads_is_retried(fake):
    sleeps: list[float] = []
    broker = make(fake, sleeps)
    order = market("SOL/USDT", "1")
    broker.submit(order)
    fake.set_faults(server_error=2)
    assert broker.fetch_order(order.client_order_id).status == OrderStatus.FILLED
    assert sleeps == [0.5, 1.0]


def test_5xx_on_create_is_an_unknown_outcome_resolved_by_lookup(fake):
    broker = make(fake)
    broker.load_markets()
    fake.set_faults(server_error=1)
    order = market("SOL/USDT", "1")
    with pytest.raises(OrderOutcomeUnknown):
        broker.submit(order)
    assert broker.fetch_order(order.client_order_id) is None
    broker.submit(order)
    assert fake.venue.created[order.client_order_id] == 1


# -- timeouts -------------------------------------------------------------------------------


@pytest.mark.parametrize("drop", [False, True], ids=["stall", "drop"])
def test_accept_then_timeout_is_unknown_then_found_with_its_fill(fake, drop):
    broker = make(fake)
    broker.load_markets()
    fake.set_faults(accept_then_timeout=1, drop=drop)
    order = market("ETH/USDT", "0.1")
    with pytest.raises(OrderOutcomeUnknown) as raised:
        broker.submit(order)
    assert raised.value.client_order_id == order.client_order_id
    found = broker.fetch_order(order.client_order_id)
    assert found.status == OrderStatus.FILLED and found.filled_qty == D("0.1")
    assert fake.received[order.client_order_id] == 1
    fills = broker.on_bar(bar("ETH/USDT"))
    assert [(f.client_order_id, f.qty) for f in fills] == [(order.client_order_id, D("0.1"))]
    with pytest.raises(DuplicateOrderError):
        broker.submit(order)  # known now: refused locally, nothing sent
    assert fake.received[order.client_order_id] == 1


def test_fills_of_an_unresolved_timeout_are_claimed_from_the_trades(fake):
    broker = make(fake)
    broker.load_markets()
    fake.set_faults(accept_then_timeout=1, drop=True)
    order = market("ETH/USDT", "0.2")
    with pytest.raises(OrderOutcomeUnknown):
        broker.submit(order)
    fills = broker.on_bar(bar("ETH/USDT"))  # no fetch_order first
    assert [f.client_order_id for f in fills] == [order.client_order_id]


def test_reject_before_accept_timeout_is_not_found_and_a_resend_works(fake):
    broker = make(fake)
    broker.load_markets()
    fake.set_faults(reject_then_timeout=1)
    order = market("SOL/USDT", "2")
    with pytest.raises(OrderOutcomeUnknown):
        broker.submit(order)
    assert broker.fetch_order(order.client_order_id) is None
    broker.submit(order)
    assert fake.received[order.client_order_id] == 2
    assert fake.venue.created[order.client_order_id] == 1


def test_a_restart_resending_an_id_gets_a_duplicate_not_a_second_order(fake):
    order = market("SOL/USDT", "1")
    make(fake).submit(order)
    with pytest.raises(DuplicateOrderError):
        make(fake).submit(order)
    assert fake.venue.created[order.client_order_id] == 1
    again = make(fake, symbols=["BTC/USDT", "SOL/USDT"])
    assert again.fetch_order(order.client_order_id).status == OrderStatus.FILLED


# -- fills ----------------------------------------------------------------------------------


def test_partial_fills_come_once_per_exchange_trade(fake):
    broker = make(fake)
    fake.set_faults(fill_slices=3)
    limit = price(fake, "BTC/USDT") * D("0.9995")
    order = market("BTC/USDT", "0.03", type=OrderType.LIMIT, limit_price=limit.quantize(D("0.01")))
    broker.submit(order)
    fills = []
    for _ in range(2000):
        fake.advance(1)
        fills += broker.on_bar(bar("BTC/USDT"))
        fills += broker.on_bar(bar("BTC/USDT"))  # polled twice: nothing new the second time
        if sum(f.qty for f in fills) >= order.qty:
            break
    trades = [t for t in fake.venue.trades if t.order.cid == order.client_order_id]
    assert [f.trade_id for f in fills] == [str(t.trade_id) for t in trades]
    assert [f.qty for f in fills] == [D("0.01")] * 3
    assert all(
        f.price == order.limit_price and f.fee == t.commission
        for f, t in zip(fills, trades, strict=True)
    )
    assert broker.fetch_order(order.client_order_id).status == OrderStatus.FILLED
    before = fake.count("GET", "/api/v3/myTrades")
    assert broker.on_bar(bar("BTC/USDT")) == []
    assert fake.count("GET", "/api/v3/myTrades") == before  # settled: no more polling


def test_cancel_by_client_id(fake):
    broker = make(fake)
    order = market(
        "SOL/USDT",
        "1",
        type=OrderType.LIMIT,
        limit_price=(price(fake, "SOL/USDT") / 2).quantize(D("0.01")),
    )
    broker.submit(order)
    assert broker.cancel(order.client_order_id) is True
    assert broker.fetch_order(order.client_order_id).status == OrderStatus.CANCELLED
    assert broker.cancel(order.client_order_id) is False
    assert broker.cancel("never-sent") is False


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.sampled_from(
            ["none", "rate_limit", "server_error", "accept_then_timeout", "reject_then_timeout"]
        ),
        min_size=1,
        max_size=4,
    )
)
def test_no_duplicate_order_under_any_fault(fake, faults):
    """A caller that resolves every unknown outcome by lookup and resends only what the
    exchange does not have places each client id exactly once."""
    broker = make(fake, max_retries=1)
    broker.load_markets()
    order = market("SOL/USDT", "1")
    for fault in faults:
        fake.set_faults(drop=True, retry_after=0)
        if fault != "none":
            fake.set_faults(**{fault: 1})
        try:
            broker.submit(order)
        except (OrderOutcomeUnknown, ExchangeUnavailable):
            pass
        except DuplicateOrderError:
            break
        if broker.fetch_order(order.client_order_id) is not None:
            break
    fake.set_faults(rate_limit=0, server_error=0, accept_then_timeout=0, reject_then_timeout=0)
    placed = broker.fetch_order(order.client_order_id) is not None
    assert fake.venue.created[order.client_order_id] == (1 if placed else 0)


# -- secrets and configuration --------------------------------------------------------------


def test_secrets_stay_out_of_repr_and_errors(fake):
    broker = make(fake, max_retries=1, symbols=["BTC/USDT"])
    fake.set_faults(server_error=5)
    with pytest.raises(ExchangeUnavailable) as raised:
        broker.fetch_order("x")
    text = repr(broker) + str(raised.value)
    assert KEYS.api_key not in text and KEYS.secret not in text and "signature" not in text


def test_from_config_uses_the_vaults_keys(fake, tmp_path):
    from engine.config.schema import config_from_dict
    from store.db import Store
    from store.vault import Vault

    cfg = config_from_dict({"broker": {"kind": "ccxt", "exchange": "binance", "sandbox": True}})
    with Store.open(tmp_path / "desk.db") as store:
        vault = Vault(store.conn)
        vault.set("binance", "pass phrase", KEYS)
        broker = from_config(cfg, vault, "pass phrase", urls=fake.ccxt_urls(), sleep=lambda s: 0)
    assert broker.sandbox and broker.exchange_id == "binance"
    order = market("BTC/USDT", "0.001")
    broker.submit(order)  # sandbox URLs replaced by the fake's: the keys work there
    assert fake.venue.created[order.client_order_id] == 1
