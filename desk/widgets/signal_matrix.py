"""The latest signal of every strategy for every symbol, as a symbols x strategies grid."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text

from desk.widgets.keyed_table import KeyedTable
from engine.live.snapshot import SignalView


def latest_signals(signals: tuple[SignalView, ...]) -> dict[tuple[str, str], SignalView]:
    latest: dict[tuple[str, str], SignalView] = {}
    for signal in signals:
        key = (signal.symbol, signal.strategy)
        if key not in latest or signal.ts >= latest[key].ts:
            latest[key] = signal
    return latest


class SignalMatrix(KeyedTable):
    """Display only: the proposal queue below it takes the focus."""

    can_focus = False

    def __init__(self, **kwargs) -> None:
        super().__init__([("symbol", "Symbol")], **kwargs)
        self.zebra_stripes = False
        self.show_cursor = False

    def show(
        self, symbols: tuple[str, ...], signals: tuple[SignalView, ...], styles: dict[str, Style],
        judged: dict[str, str] | None = None,
    ) -> None:
        """`judged`: symbol -> its last judged decision (with [filters] or [quality]): a
        column right after the symbol, before the strategies a narrow terminal scrolls to."""
        latest = latest_signals(signals)
        strategies = list(dict.fromkeys(strategy for _, strategy in latest))
        verdict = [("judged", "Filters")] if judged else []
        self.set_columns([("symbol", "Symbol"), *verdict, *((s, s) for s in strategies)])
        rows = {}
        for symbol in symbols or sorted({symbol for symbol, _ in latest}):
            cells: list[str | Text] = [symbol]
            if judged:
                # Calm unless the layer stopped a decision: that one stands out.
                text = judged.get(symbol, "—")
                cells.append(Text(text, style="" if text.startswith("dropped")
                                  else styles["HOLD"]))
            for strategy in strategies:
                signal = latest.get((symbol, strategy))
                if signal is None:
                    cells.append(Text("·", style=styles["HOLD"]))
                else:
                    label = f"{signal.side:<4} {signal.confidence:.2f}"
                    cells.append(Text(label, style=styles[signal.side]))
            rows[symbol] = cells
        self.sync(rows)
