"""A paused feed stops the approval countdown: nothing expires while paused, and on resume
every proposal has exactly the time it had left when the pause began."""

from __future__ import annotations

from datetime import timedelta

from tests.live_engine import live_engine, step_until_proposal


def test_a_proposal_does_not_expire_while_the_feed_is_paused(tmp_path):
    engine, clock, _ = live_engine(tmp_path, engine={"approval_timeout": 30})
    proposal = step_until_proposal(engine)
    left_at_pause = proposal.expires_at - clock.now
    clock.now += timedelta(seconds=10)
    left_at_pause -= timedelta(seconds=10)

    waiting = {p.order_id for p in engine.latest_snapshot().proposals}
    assert proposal.order_id in waiting

    engine.set_paused(True)
    clock.now += timedelta(minutes=5)  # far past the expiry
    engine.expire_proposals()
    assert {p.order_id for p in engine.latest_snapshot().proposals} == waiting

    engine.set_paused(False)
    resumed = {p.order_id: p for p in engine.latest_snapshot().proposals}[proposal.order_id]
    assert resumed.expires_at - clock.now == left_at_pause  # the countdown went on from 0:20

    clock.now += left_at_pause - timedelta(seconds=1)
    engine.expire_proposals()
    assert engine.latest_snapshot().proposals  # one second to go
    clock.now += timedelta(seconds=1)
    engine.expire_proposals()
    assert not engine.latest_snapshot().proposals
    engine.stop()


def test_pausing_twice_moves_the_expiry_by_the_whole_pause_once(tmp_path):
    engine, clock, _ = live_engine(tmp_path, engine={"approval_timeout": 60})
    proposal = step_until_proposal(engine)
    engine.set_paused(True)
    clock.now += timedelta(seconds=20)
    engine.set_paused(True)  # a second pause key while paused changes nothing
    clock.now += timedelta(seconds=20)
    engine.set_paused(False)
    engine.set_paused(False)
    resumed = {p.order_id: p for p in engine.latest_snapshot().proposals}[proposal.order_id]
    assert resumed.expires_at == proposal.expires_at + timedelta(seconds=40)
    engine.stop()
