"""What a podcast app's play actions earn: at most the wall-clock time since the learner's previous play action
(or the account's creation) at three times real speed; a forged « position = total » with no time behind it earns
nothing; an action sent twice is one event."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from learning.progress.listening import MAX_SPEED, PlayAction, credited

CREATED = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def _play(minute: float, started: int | None, position: int | None, digest: str = "") -> PlayAction:
    return PlayAction(
        digest or f"{minute}-{started}-{position}", CREATED + timedelta(minutes=minute), started, position
    )


def test_a_listening_session_with_its_time_behind_it_earns_all_of_it() -> None:
    (credit,) = credited([_play(30, 0, 1200)], account_created=CREATED, earlier=[], now=NOW)
    assert (credit.start, credit.end) == (0.0, 1200.0)


def test_a_forged_whole_episode_with_no_time_behind_it_earns_nothing() -> None:
    # Right after the account was made, or in the same instant as another action: no time to have listened.
    assert credited([_play(0, 0, 1800)], account_created=CREATED, earlier=[], now=NOW) == []
    sent = [_play(10, 0, 60), _play(10, 0, 1800, digest="forged")]
    assert [(c.start, c.end) for c in credited(sent, account_created=CREATED, earlier=[], now=NOW)] == [(0.0, 60.0)]


def test_credit_is_capped_at_three_times_the_time_since_the_previous_action() -> None:
    earlier = [CREATED + timedelta(minutes=100)]
    (credit,) = credited([_play(105, 0, 3000)], account_created=CREATED, earlier=earlier, now=NOW)
    assert credit.end == 3000.0  # where the learner got to is kept
    assert credit.end - credit.start == 5 * 60 * MAX_SPEED


def test_old_listening_synced_late_still_gets_the_time_it_had() -> None:
    # Actions kept already at minutes 200 and 300; a phone syncs, later, one made at minute 150.
    earlier = [CREATED + timedelta(minutes=200), CREATED + timedelta(minutes=300)]
    (credit,) = credited([_play(150, 0, 600)], account_created=CREATED, earlier=earlier, now=NOW)
    assert (credit.start, credit.end) == (0.0, 600.0)


def test_actions_from_the_future_backwards_or_without_a_start_earn_nothing() -> None:
    future = PlayAction("f", NOW + timedelta(hours=1), 0, 60)
    assert credited([future, _play(60, None, 300), _play(70, 400, 300), _play(80, -1, 30)],
                    account_created=CREATED, earlier=[], now=NOW) == []  # fmt: skip


def test_the_same_action_is_the_same_event() -> None:
    first = credited([_play(30, 0, 100, digest="d")], account_created=CREATED, earlier=[], now=NOW)
    again = credited([_play(30, 0, 100, digest="d")], account_created=CREATED, earlier=[], now=NOW)
    assert first[0].event_id == again[0].event_id
    other = credited([_play(30, 0, 100, digest="e")], account_created=CREATED, earlier=[], now=NOW)
    assert other[0].event_id != first[0].event_id
