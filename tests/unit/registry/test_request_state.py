"""When a worker sweeps the shared request state: now and then, and at once again
after a full batch (unit, fixed clock)."""

from datetime import UTC, datetime, timedelta

from registry.request_state import SWEEP_BATCH, SweepSchedule

START = datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)


def test_a_sweep_is_due_at_first_and_then_once_per_interval():
    schedule = SweepSchedule(interval=timedelta(minutes=5))
    assert schedule.is_due(START)
    assert not schedule.is_due(START)
    assert not schedule.is_due(START + timedelta(minutes=4, seconds=59))
    assert schedule.is_due(START + timedelta(minutes=5))
    assert not schedule.is_due(START + timedelta(minutes=6))


def test_a_full_batch_makes_the_next_sweep_due_at_once():
    schedule = SweepSchedule(interval=timedelta(minutes=5))
    assert schedule.is_due(START)
    schedule.record(SWEEP_BATCH - 1, now=START)
    assert not schedule.is_due(START)
    schedule.record(SWEEP_BATCH, now=START)
    assert schedule.is_due(START)
