"""The chart of one symbol in the Market pane: its last bars' closes, a marker at each
fill (▲ buy, ▼ sell) and the stop level as a horizontal line, drawn by plotext.

It redraws only when what it shows changed (a new bar, a fill, a moved stop), so the
snapshots' redraw budget pays for one chart at most once per bar.
"""

from __future__ import annotations

from textual_plotext import PlotextPlot

from engine.live.snapshot import MarketView


def chart_key(view: MarketView | None) -> tuple:
    """What the chart depends on: equal keys, same picture."""
    if view is None:
        return ()
    return (view.symbol, view.last_bar, view.closes[-1:] if view.closes else (), view.marks,
            view.stop)


class PriceChart(PlotextPlot):
    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._key: tuple | None = None

    def show(self, view: MarketView | None) -> None:
        key = chart_key(view)
        if key == self._key:
            return
        self._key = key
        plt = self.plt
        plt.clear_figure()
        if view is None or not view.closes:
            plt.title("no bars yet")
            self.refresh()
            return
        bars = list(range(-len(view.closes) + 1, 1))  # 0 is the newest bar
        plt.plot(bars, list(view.closes), marker="braille", color="blue")
        step = max(len(bars) // 4, 1)
        plt.xticks(bars[::-step][::-1])  # whole bars back from the newest, which is 0
        for side, symbol, colour in (("buy", "▲", "green"), ("sell", "▼", "red")):
            marks = [m for m in view.marks if m.side == side]
            if marks:
                plt.scatter([bars[m.bar] for m in marks], [m.price for m in marks],
                            marker=symbol, color=colour)
        title = f"{view.symbol} · last {len(bars)} bars (0 = newest)"
        if view.stop is not None:
            plt.hline(view.stop, color="red")
            title += f" · stop {view.stop:,.2f} (red line)"
        plt.title(title)
        self.refresh()
