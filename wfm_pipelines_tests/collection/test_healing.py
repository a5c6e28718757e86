from wfm_pipelines.collection import healing

KEYS = [f"2026-03-01-10:{m:02d}" for m in (0, 15, 30, 45)] + [f"2026-03-01-11:{m:02d}" for m in (0, 15, 30, 45)]


def plan(status, state, now, **kw):
    options = dict(max_attempts=3, backoff_seconds=100, max_ranges=2, max_partitions_per_range=3)
    options.update(kw)
    return healing.plan_asset_healing("contact_volume", KEYS, status, state, now, **options)


def test_newest_gaps_first_in_contiguous_bounded_ranges():
    status = {k: healing.MATERIALIZED for k in KEYS}
    for k in KEYS[1:3] + KEYS[4:8]:
        status[k] = healing.MISSING
    status[KEYS[5]] = healing.FAILED
    state = healing.HealingState()
    result = plan(status, state, now=1000)
    # 11:00..11:45 is 4 long: split into 11:15..11:45 (newest, 3 keys) then 11:00, limited to 2 ranges.
    assert result.ranges == [(KEYS[5], KEYS[7], 1), (KEYS[4], KEYS[4], 1)]
    assert state.attempts["contact_volume"][KEYS[7]].attempts == 1
    assert KEYS[1] not in state.attempts["contact_volume"]


def test_in_progress_is_left_alone_and_backoff_delays_the_next_attempt():
    status = {k: healing.MATERIALIZED for k in KEYS}
    status[KEYS[0]] = healing.FAILED
    status[KEYS[1]] = healing.IN_PROGRESS
    state = healing.HealingState()
    assert plan(status, state, now=0).ranges == [(KEYS[0], KEYS[0], 1)]
    waiting = plan(status, state, now=50)
    assert waiting.ranges == [] and waiting.waiting == 1
    assert plan(status, state, now=100).ranges == [(KEYS[0], KEYS[0], 2)]
    # second backoff is twice as long: next attempt at 100 + 200
    assert plan(status, state, now=299).ranges == []
    assert plan(status, state, now=300).ranges == [(KEYS[0], KEYS[0], 3)]


def test_gives_up_after_max_attempts_once_and_forgets_healed_partitions():
    status = {k: healing.MATERIALIZED for k in KEYS}
    status[KEYS[2]] = healing.FAILED
    state = healing.HealingState()
    now = 0
    for _ in range(3):
        assert plan(status, state, now=now).ranges
        now += 10_000
    gave_up = plan(status, state, now=now)
    assert gave_up.ranges == [] and gave_up.newly_gave_up == [KEYS[2]]
    assert plan(status, state, now=now + 1).newly_gave_up == []  # reported once
    restored = healing.HealingState.from_cursor(state.to_cursor())
    assert restored.gave_up == {"contact_volume": [KEYS[2]]}
    status[KEYS[2]] = healing.MATERIALIZED  # someone reran it from the UI
    plan(status, restored, now=now + 2)
    assert restored.attempts["contact_volume"] == {} and restored.gave_up["contact_volume"] == []
