"""The Risk pane shows the score and its parts, the rules' headroom, the labelled VaR and the
worst scenario live, and entering high or critical risk raises one notification."""

from __future__ import annotations

from dataclasses import replace

from desk.app import DeskApp
from desk.widgets.risk import RiskPane
from engine.risk.live_view import Headroom, ScorePart
from tests.desk.builders import NOW, RecordingControl, risk, snapshot

SIZE = (120, 40)


def risky(score: float, level: str, alerts: int):
    return replace(
        risk(), score=score, level=level, alerts=alerts,
        alert=f"risk {level}: score {score:.0f}",
        var_label="VaR 95% historical (1 bar)",
        score_parts=(ScorePart("drawdown", 0.1, 0.2, 20.0, 10.0),
                     ScorePart("volatility", 0.45, 0.3, 20.0, 20.0)),
        headroom=(Headroom("max_drawdown", 0.5, "10.00% of 20.00%"),),
        worst_scenario="2008 crisis: -9,250.00 (drawdown 9.3%)",
        drawdown_controller="warning: sizes x0.75 at drawdown 10.50% (warning 10%, "
                            "critical 20%)")


async def test_the_pane_shows_score_parts_headroom_and_notifies_once_per_alert():
    control = RecordingControl(current=snapshot(risk=risky(30.0, "elevated", 0)))
    app = DeskApp(control, clock=lambda: NOW)
    notes: list[str] = []
    async with app.run_test(size=SIZE) as pilot:
        app.notify = lambda message, **kw: notes.append(message)  # what the user would see
        await pilot.press("6")
        pane = app.main.query_one(RiskPane)
        text = str(pane.query_one("#risk-limits").render())
        assert "Risk score  30.0 / 100" in text and "ELEVATED" in text
        assert "drawdown 10/20" in text and "volatility 20/20" in text
        assert "max_drawdown" in text and "10.00% of 20.00%" in text
        assert "VaR 95% historical (1 bar)" in text
        assert "2008 crisis" in text and "Drawdown controller  warning" in text
        app.publish(snapshot(risk=risky(62.0, "high", 1)))
        await pilot.pause()
        app.publish(snapshot(risk=risky(63.0, "high", 1)))  # the same alert: no second note
        await pilot.pause()
    assert notes == ["risk high: score 62"]
