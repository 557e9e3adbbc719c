"""Pane 2: the signal matrix and the queue of orders waiting for approval."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.widgets import Label, Static

from desk.widgets.format import price, quantity, right, time_left
from desk.widgets.keyed_table import KeyedTable
from desk.widgets.pane import Details, Pane, describe
from desk.widgets.signal_matrix import SignalMatrix
from engine.live.snapshot import ProposalView, Snapshot

PROPOSAL_COLUMNS = (
    ("symbol", "Symbol"),
    ("side", "Side"),
    ("qty", "Qty"),
    ("price", "Price", 1),
    ("left", "Left"),
    ("reason", "Reason", 2),
)


class SignalsPane(Pane):
    number = 2
    title = "Signals"

    def __init__(self) -> None:
        super().__init__()
        self._proposals: dict[str, ProposalView] = {}
        self._paused_at: datetime | None = None  # the countdowns stand still from here

    def compose(self):
        yield SignalMatrix(id="signal-matrix")
        yield Label(id="proposals-caption")
        yield Static(id="idle-reasons")  # above the (then empty) table: the room is short
        yield KeyedTable(PROPOSAL_COLUMNS, id="proposals-table")

    @property
    def focus_target(self) -> KeyedTable:
        return self.query_one("#proposals-table", KeyedTable)

    def show(self, snapshot: Snapshot, now: datetime) -> None:
        side_styles = {
            "BUY": self.style_of("bid"),
            "SELL": self.style_of("ask"),
            "HOLD": self.style_of("muted"),
        }
        self.query_one(SignalMatrix).show(snapshot.symbols, snapshot.signals, side_styles,
                                          snapshot.judged)
        self._show_caption(snapshot)
        # The engine lets nothing expire while paused and moves every expiry on by the
        # pause when the feed resumes; the countdown stands still meanwhile.
        if snapshot.paused:
            self._paused_at = self._paused_at or now
            now = self._paused_at
        else:
            self._paused_at = None
        ordered = sorted(snapshot.proposals, key=lambda p: p.created_at)
        self._proposals = {p.order_id: p for p in ordered}
        rows = {
            p.order_id: (
                p.symbol,
                Text(p.side, style=side_styles.get(p.side.upper(), "")),
                right(quantity(p.qty)),
                right(price(p.price)),
                right(time_left(p.expires_at - now)),
                p.reason,
            )
            for p in ordered
        }
        self.focus_target.sync(rows)
        self._show_idle(snapshot)

    def _show_idle(self, snapshot: Snapshot) -> None:
        """With nothing proposed: per symbol, why. (While orders wait, they have the room:
        a short pane in the wide grid must not lose them to the reasons.)"""
        idle = {symbol: reason for symbol, reason in snapshot.idle.items() if reason}
        box = self.query_one("#idle-reasons", Static)
        box.display = bool(idle) and not snapshot.proposals
        if idle:
            width = max(len(symbol) for symbol in idle)
            lines = [f"{symbol:<{width}}  {reason}" for symbol, reason in idle.items()]
            box.update(Text("Nothing proposed:\n" + "\n".join(lines),
                            style=self.style_of("muted")))

    def _show_caption(self, snapshot: Snapshot) -> None:
        count = len(snapshot.proposals)
        caption = self.query_one("#proposals-caption", Label)
        if snapshot.approval_mode == "auto":
            caption.update(f"Proposed orders ({count}) · AUTO approval: orders pass straight on")
        else:
            caption.update(f"Proposed orders ({count}) · a approve · r reject")
        caption.set_class(snapshot.approval_mode == "auto", "-auto")

    def selected_proposal(self) -> ProposalView | None:
        """The proposal under the cursor, else the oldest one waiting."""
        key = self.focus_target.selected_key
        if key in self._proposals:
            return self._proposals[key]
        return next(iter(self._proposals.values()), None)

    def selected_details(self) -> Details | None:
        """The engine's explanation of the proposal (votes, regime, size, filters, each
        risk rule's headroom), then the proposal's own fields."""
        proposal = self.selected_proposal()
        if proposal is None:
            return None
        fields = describe(f"Proposed order {proposal.order_id}", proposal)
        explanation = self.app.control.explain(proposal.order_id)  # type: ignore[attr-defined]
        if explanation is None:
            return fields
        rows = tuple((f"── {label[1:].strip()} ──" if label.startswith("§") else label, text)
                     for label, text in explanation.rows)
        return Details(explanation.title, rows + (("── Proposal ──", ""),) + fields.rows)
