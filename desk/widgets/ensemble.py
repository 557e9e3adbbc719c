"""Pane 3: the ensemble's last decision per symbol, with the votes behind it."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text

from desk.widgets.format import right
from desk.widgets.keyed_table import KeyedTable
from desk.widgets.pane import Details, Pane, describe
from engine.live.snapshot import EnsembleView, Snapshot

# The weights are what a trader reads this pane for: they never give way; the mode (the
# same for every row) goes first.
COLUMNS = (
    ("symbol", "Symbol"),
    ("decision", "Decision"),
    ("confidence", "Conf", 1),
    ("votes", "Votes b/s/h", 2),
    ("mode", "Mode", 3),
    ("weights", "Weights"),
)


def short_mode(mode: str) -> str:
    # "weighted_vote" -> "weighted": the narrow layout needs the width for the weights.
    return mode.removesuffix("_vote").replace("confidence_average", "conf avg")


def votes_text(votes: dict[str, int]) -> str:
    return "/".join(str(votes.get(side, 0)) for side in ("buy", "sell", "hold"))


def short_names(names: list[str]) -> dict[str, str]:
    """Each strategy id cut to its first word, at most 4 letters (sma_cross -> sma,
    mean_reversion -> mean), so five weights fit a narrow pane; the full id where two
    would read the same. The details dialog shows the full ids."""
    short = {name: name.split("_")[0][:4] for name in names}
    clashes = {s for s in short.values() if list(short.values()).count(s) > 1}
    return {name: name if cut in clashes else cut for name, cut in short.items()}


def weight_number(weight: float) -> str:
    text = f"{weight:.2f}".rstrip("0").rstrip(".")
    return text.removeprefix("0") if text.startswith("0.") else text or "0"


def weights_text(weights: dict[str, float]) -> str:
    names = short_names(list(weights))
    return " ".join(f"{names[name]} {weight_number(w)}" for name, w in weights.items())


class EnsemblePane(Pane):
    number = 3
    title = "Ensemble"

    def __init__(self) -> None:
        super().__init__()
        self._decisions: dict[str, EnsembleView] = {}

    def compose(self):
        yield KeyedTable(COLUMNS, id="ensemble-table")

    def show(self, snapshot: Snapshot, now: datetime) -> None:
        self._decisions = {e.symbol: e for e in snapshot.ensemble}
        styles = {"BUY": "bid", "SELL": "ask", "HOLD": "muted"}
        rows = {
            e.symbol: (
                e.symbol,
                Text(e.decision, style=self.style_of(styles.get(e.decision, "muted"))),
                right(f"{e.confidence:.2f}"),
                right(votes_text(e.votes)),
                short_mode(e.mode),
                weights_text(e.weights),
            )
            for e in snapshot.ensemble
        }
        self.query_one(KeyedTable).sync(rows)

    def selected_details(self) -> Details | None:
        key = self.query_one(KeyedTable).selected_key
        decision = self._decisions.get(key or "")
        return describe(f"Ensemble decision {key}", decision) if decision else None
