"""Errors of the ccxt broker, and how ccxt's exceptions become them.

Three outcomes matter to the caller of `submit` (the first two are the broker port's own
classes, defined once in base.py):

- `OrderRejected`: the exchange answered and refused (insufficient funds, a filter, a bad
  symbol). Nothing was placed; the reason is the exchange's own message.
- `OrderOutcomeUnknown`: the request left and no usable answer came back (timeout,
  dropped connection, 5xx). The order may or may not exist: never treat it as failed.
  Resolve it with `fetch_order(client_order_id)`, which looks the order up by its id.
- `ExchangeUnavailable`: a read (fetch, cancel, trade poll) kept failing after its
  retries, or a submit stayed rate limited; nothing changed on the exchange because of it.

Messages are scrubbed: ccxt puts signed URLs (query strings with a signature) in its
exception texts, and a key must never reach a log.
"""

from __future__ import annotations

import json
import re

from engine.brokers.base import BrokerError


class ExchangeUnavailable(BrokerError):
    """A request kept failing (network, rate limit) after the broker's retries."""

    def __init__(self, operation: str, cause: str) -> None:
        super().__init__(f"{operation}: exchange unavailable after retries: {cause}")
        self.operation = operation
        self.cause = cause


_QUERY = re.compile(r"\?\S*")


def scrub(text: str, *secrets: str | None) -> str:
    """`text` without query strings (signatures, timestamps) and without any of `secrets`."""
    text = _QUERY.sub("?…", text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def exchange_reason(error: Exception, *secrets: str | None) -> str:
    """The exchange's own message when ccxt's text carries a JSON body ("binance {...}"),
    else the scrubbed text of the exception."""
    text = str(error)
    start = text.find("{")
    if start >= 0:
        try:
            body = json.loads(text[start:])
        except ValueError:
            body = None
        if isinstance(body, dict) and body.get("msg"):
            code = body.get("code")
            reason = str(body["msg"])
            return scrub(f"{reason} (code {code})" if code is not None else reason, *secrets)
    # ccxt prefixes the exchange id: "binance Account has insufficient balance..."
    return scrub(text, *secrets)
