"""Schedule: the persistent store of scheduled actions, held to a sorted list's laws.

Every test runs the schedule beside a naive model: a dict of items by id,
sorted by (due time, id) whenever it is read. Due times come in several UTC
offsets, so the order is by instant, not by wall-clock text.
"""

from __future__ import annotations

import pickle
import random
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, consumes, invariant, rule

from pipekit import HostAction, MoveTo, Scheduled
from pipekit._containers import tree as _tree
from pipekit._containers.tree import Node
from pipekit.scheduling import EMPTY_SCHEDULE, Schedule, time_key
from tests.profiles import machine_runs, scaled

START = datetime(2026, 12, 1, tzinfo=UTC)
ZONES = (UTC, timezone(timedelta(hours=3)), timezone(timedelta(hours=-5, minutes=-30)))
EMAIL = HostAction("send_email")


def item(
    item_id: int, minutes: int, *, lead_id: int = 1, automation_id: int = 1, zone: int = 0
) -> Scheduled:
    due_at = (START + timedelta(minutes=minutes)).astimezone(ZONES[zone])
    return Scheduled(item_id, automation_id, lead_id, due_at, EMAIL)


def in_order(items: list[Scheduled]) -> tuple[Scheduled, ...]:
    return tuple(sorted(items, key=lambda i: (i.due_at, i.id)))


class TestTimeKey:
    def test_counts_microseconds_since_the_epoch(self) -> None:
        epoch = datetime(1970, 1, 1, tzinfo=UTC)
        assert time_key(epoch + timedelta(seconds=1, microseconds=5)) == 1_000_005

    def test_is_the_same_for_one_instant_in_any_offset(self) -> None:
        moment = START + timedelta(hours=7)
        assert {time_key(moment.astimezone(zone)) for zone in ZONES} == {time_key(moment)}

    def test_orders_before_the_epoch_too(self) -> None:
        early = datetime(1900, 1, 1, tzinfo=UTC)
        assert time_key(early) < 0 < time_key(START)


class TestSchedule:
    def test_starts_empty(self) -> None:
        assert len(EMPTY_SCHEDULE) == 0
        assert EMPTY_SCHEDULE.as_tuple() == ()
        assert tuple(EMPTY_SCHEDULE.due(time_key(START))) == ()

    def test_reads_items_by_due_time_then_id(self) -> None:
        items = [item(3, 10), item(1, 20), item(2, 10, zone=1), item(4, 5, zone=2)]
        schedule = Schedule(items)
        assert [i.id for i in schedule] == [4, 2, 3, 1]
        assert schedule.as_tuple() is schedule.as_tuple()  # built once

    def test_due_stops_at_the_bound_and_skips_handed_over(self) -> None:
        schedule = Schedule([item(1, 0), item(2, 10), item(3, 20)])
        schedule = schedule.handed_over(schedule.get(1) or item(1, 0), START)
        due = tuple(schedule.due(time_key(START + timedelta(minutes=10))))
        assert [i.id for i in due] == [2]

    def test_hand_over_keeps_the_item_and_stamps_it(self) -> None:
        schedule = Schedule([item(1, 0, automation_id=7)])
        handed = schedule.handed_over(item(1, 0, automation_id=7), START)
        assert handed.get(1) == Scheduled(1, 7, 1, START, EMAIL, handed_over_at=START)
        assert handed.waiting_of(7) == ()
        assert schedule.waiting_of(7) == (item(1, 0, automation_id=7),)  # unchanged

    def test_groups_by_lead_and_by_automation(self) -> None:
        items = [
            item(1, 0, lead_id=5, automation_id=1),
            item(2, 0, lead_id=5, automation_id=2),
            item(3, 0, lead_id=6, automation_id=1),
        ]
        schedule = Schedule(items)
        assert [i.id for i in schedule.of_lead(5)] == [1, 2]
        assert [i.id for i in schedule.waiting_of(1)] == [1, 3]
        assert schedule.of_lead(9) == ()
        assert schedule.waiting_of(9) == ()
        rest = schedule.without(items[0]).without(items[1])
        assert rest.of_lead(5) == ()
        assert [i.id for i in rest.waiting_of(1)] == [3]

    def test_removes_a_handed_over_item(self) -> None:
        schedule = Schedule([item(1, 0), item(2, 0)])
        handed = schedule.handed_over(item(1, 0), START)
        rest = handed.without(handed.get(1) or item(1, 0))
        assert rest.as_tuple() == (item(2, 0),)

    def test_equal_when_the_items_are(self) -> None:
        items = [item(i, i % 5) for i in range(1, 50)]
        built = Schedule(items)
        grown = EMPTY_SCHEDULE
        for one in reversed(items):
            grown = grown.with_item(one)
        assert built == grown
        assert hash(built) == hash(grown)
        assert built != built.without(items[0])
        assert built.__eq__(items) is NotImplemented

    def test_unequal_when_the_same_count_is_spread_over_other_leads(self) -> None:
        two_of_one = Schedule([item(1, 0), item(2, 0), item(3, 0, lead_id=2)])
        one_each = Schedule([item(1, 0), item(2, 0, lead_id=2), item(3, 0, lead_id=2)])
        assert two_of_one != one_each
        assert one_each != two_of_one

    def test_an_item_removed_while_waiting_is_found_by_id_no_more(self) -> None:
        items = [item(i, i) for i in range(1, 5)]
        schedule = Schedule(items).without(items[2])  # behind the front: left in place
        assert schedule.get(3) is None
        assert [one.id for one in schedule.by_id()] == [1, 2, 4]
        assert len(schedule) == 3
        assert schedule._by_id.get(3) is items[2]  # the left-over, until it reaches the front
        schedule = schedule.without(items[0]).without(items[1])
        assert schedule._by_id.get(3) is None

    def test_pickles_and_reprs_as_its_items(self) -> None:
        schedule = Schedule([item(1, 0), item(2, 5)])
        assert pickle.loads(pickle.dumps(schedule)) == schedule
        assert repr(schedule) == f"Schedule({schedule.as_tuple()!r})"

    def test_an_id_removed_and_added_again_is_held_once(self) -> None:
        first = item(2, 10)
        schedule = Schedule([item(1, 0), first]).without(first)
        again = item(2, 10, lead_id=3)  # the same key, another item
        schedule = schedule.with_item(again)
        assert schedule.as_tuple() == (item(1, 0), again)
        assert tuple(schedule.due(time_key(START + timedelta(minutes=10)))) == (item(1, 0), again)
        assert schedule == Schedule([item(1, 0), again])

    def test_an_item_removed_while_waiting_is_dropped_once_it_reaches_the_front(self) -> None:
        items = [item(i, i) for i in range(1, 5)]
        schedule = Schedule(items)
        for one in items[1:3]:
            schedule = schedule.without(one)  # behind the front: left for later
        assert [i.id for i in schedule] == [1, 4]
        assert len(list(schedule._waiting.items())) == 4
        schedule = schedule.without(items[0])  # the front goes, and what was left behind it
        assert [key for key, _ in schedule._waiting.items()] == [_key_of(items[3])]

    def test_a_left_over_whose_id_came_back_leaves_the_new_item_in_place(self) -> None:
        # A replayed log may bring a removed id back while its old entry still waits.
        items = [item(i, i) for i in range(1, 5)]
        schedule = Schedule(items).without(items[1])  # behind the front: left for later
        again = item(2, 10)
        schedule = schedule.with_item(again)
        schedule = schedule.without(items[0])  # the front goes, and the old entry of 2
        assert schedule.as_tuple() == (items[2], items[3], again)
        assert schedule.get(2) is again
        assert _key_of(items[1]) not in [key for key, _ in schedule._waiting.items()]

    def test_holds_moves_too(self) -> None:
        move = Scheduled(1, 1, 1, START, MoveTo(145))
        assert Schedule([move]).as_tuple() == (move,)


# About 0.6 s an example, thousands of items each.
@scaled(2, 15, 100, deadline=None)
@given(st.randoms(use_true_random=False), st.integers(0, 6000))
def test_a_large_schedule_matches_a_sorted_list(rng: random.Random, size: int) -> None:
    """Grow one deep enough to split branches, then take most of it away again."""
    items = [item(i, rng.randrange(500), zone=rng.randrange(3)) for i in range(1, size + 1)]
    schedule = EMPTY_SCHEDULE
    for one in items:
        schedule = schedule.with_item(one)
    assert schedule.as_tuple() == in_order(items)
    assert Schedule(items) == schedule
    bound = rng.randrange(500)
    due = tuple(schedule.due(time_key(START + timedelta(minutes=bound))))
    assert due == tuple(i for i in in_order(items) if i.due_at <= START + timedelta(minutes=bound))
    rng.shuffle(items)
    keep = items[: size // 10]
    for one in items[size // 10 :]:
        schedule = schedule.without(one)
    assert schedule.as_tuple() == in_order(keep)
    assert len(schedule) == len(keep)


class ScheduleMachine(RuleBasedStateMachine):
    """A schedule beside a dict of its items: every change, then every read, agree."""

    # Each item id is in exactly one of these, as its item is waiting, handed over or removed.
    waiting: Bundle[int] = Bundle("waiting")
    handed_over: Bundle[int] = Bundle("handed_over")
    gone: Bundle[int] = Bundle("gone")

    def __init__(self) -> None:
        super().__init__()
        self.schedule = EMPTY_SCHEDULE
        self.model: dict[int, Scheduled] = {}
        self.removed: dict[int, Scheduled] = {}
        self.next_id = 1

    @rule(
        target=waiting,
        minutes=st.integers(-30, 30),
        lead_id=st.integers(1, 4),
        automation_id=st.integers(1, 3),
        zone=st.integers(0, 2),
    )
    def add(self, minutes: int, lead_id: int, automation_id: int, zone: int) -> int:
        new = item(self.next_id, minutes, lead_id=lead_id, automation_id=automation_id, zone=zone)
        self.next_id += 1
        before = self.schedule
        self.schedule = self.schedule.with_item(new)
        self.model[new.id] = new
        assert before.get(new.id) is None  # the old one did not change
        return new.id

    @rule(target=handed_over, item_id=consumes(waiting))
    def hand_over(self, item_id: int) -> int:
        chosen = self.model[item_id]
        self.schedule = self.schedule.handed_over(chosen, START)
        self.model[chosen.id] = Scheduled(
            chosen.id,
            chosen.automation_id,
            chosen.lead_id,
            chosen.due_at,
            chosen.action,
            handed_over_at=START,
        )
        return item_id

    @rule(target=gone, item_id=consumes(waiting))
    def remove_waiting(self, item_id: int) -> int:
        return self.remove(item_id)

    @rule(target=gone, item_id=consumes(handed_over))
    def remove_handed_over(self, item_id: int) -> int:
        return self.remove(item_id)

    def remove(self, item_id: int) -> int:
        chosen = self.model.pop(item_id)
        self.schedule = self.schedule.without(chosen)
        self.removed[chosen.id] = chosen
        return item_id

    @rule(target=waiting, item_id=consumes(gone), same_time=st.booleans())
    def add_again(self, item_id: int, same_time: bool) -> int:
        """An id that was removed comes back, as a replayed log may bring it."""
        old = self.removed.pop(item_id)
        due_at = old.due_at if same_time else old.due_at + timedelta(minutes=1)
        new = Scheduled(old.id, old.automation_id, old.lead_id, due_at, old.action)
        self.schedule = self.schedule.with_item(new)
        self.model[new.id] = new
        return item_id

    @invariant()
    def reads_agree(self) -> None:
        items = list(self.model.values())
        assert self.schedule.as_tuple() == in_order(items)
        assert len(self.schedule) == len(items)
        for one in items:
            assert self.schedule.get(one.id) == one
        for lead_id in range(1, 5):
            expected = tuple(sorted((i for i in items if i.lead_id == lead_id), key=_id))
            assert self.schedule.of_lead(lead_id) == expected
        for automation_id in range(1, 4):
            waiting = (
                i for i in items if i.automation_id == automation_id and i.handed_over_at is None
            )
            assert self.schedule.waiting_of(automation_id) == tuple(sorted(waiting, key=_id))
        for minutes in (-31, 0, 31):
            bound = START + timedelta(minutes=minutes)
            expected_due = tuple(
                i for i in in_order(items) if i.handed_over_at is None and i.due_at <= bound
            )
            assert tuple(self.schedule.due(time_key(bound))) == expected_due

    @invariant()
    def equals_a_schedule_built_at_once(self) -> None:
        assert self.schedule == Schedule(self.model.values())

    @invariant()
    def nodes_name_the_automations_below_them(self) -> None:
        for tree in (self.schedule._waiting, self.schedule._handed):
            below_nodes(tree._root, tree._height)


def below_nodes(node: Node, height: int) -> frozenset[int]:
    """Return the automations of the items under *node*; fail where a node does not name them."""
    if height == 0:
        below = frozenset(one.automation_id for one in node[1])
    else:
        below = frozenset().union(*(below_nodes(child, height - 1) for child in node[1]))
    assert below <= node[2]
    return below


class SmallNodeScheduleMachine(ScheduleMachine):
    """The same, with nodes of at most four entries and a buffer of three.

    Trees grow many levels deep, split often, and take a full buffer every few items.
    """

    def __init__(self) -> None:
        self.limits = (_tree._MAX, _tree._BUFFER)
        # mypy refuses assigning a Final
        setattr(_tree, "_MAX", 4)  # noqa: B010
        setattr(_tree, "_BUFFER", 3)  # noqa: B010
        super().__init__()

    def teardown(self) -> None:
        setattr(_tree, "_MAX", self.limits[0])  # noqa: B010
        setattr(_tree, "_BUFFER", self.limits[1])  # noqa: B010


def _id(one: Scheduled) -> int:
    return one.id


def _key_of(one: Scheduled) -> tuple[int, int]:
    return (time_key(one.due_at), one.id)


TestScheduleMachine = ScheduleMachine.TestCase
TestScheduleMachine.settings = machine_runs(8, 200, 2000)
TestSmallNodeScheduleMachine = SmallNodeScheduleMachine.TestCase
TestSmallNodeScheduleMachine.settings = machine_runs(8, 200, 2000)


class TestItemsOfAnAutomation:
    """``waiting_of`` descends only where a node names the automation, at any depth."""

    def items(self) -> list[Scheduled]:
        rng = random.Random(7)
        minutes = list(range(600))
        rng.shuffle(minutes)
        return [
            item(i, minutes[i - 1], lead_id=i % 11 + 1, automation_id=i % 7 + 1)
            for i in range(1, 601)
        ]

    def expected(self, items: list[Scheduled], automation_id: int) -> tuple[Scheduled, ...]:
        return tuple(
            one
            for one in items
            if one.automation_id == automation_id and one.handed_over_at is None
        )

    def test_in_a_tree_built_at_once_or_item_by_item(self) -> None:
        items = self.items()
        one_by_one = EMPTY_SCHEDULE
        for one in items:
            one_by_one = one_by_one.with_item(one)
        for schedule in (Schedule(items), one_by_one):
            assert schedule._waiting._height >= 1
            for automation_id in range(1, 9):
                assert schedule.waiting_of(automation_id) == self.expected(items, automation_id)

    def test_a_tree_built_at_once_names_exactly_the_automations_below(self) -> None:
        tree = Schedule(self.items())._waiting
        assert below_nodes(tree._root, tree._height) == tree._root[2] == frozenset(range(1, 8))

    def test_after_removals_and_hand_overs(self) -> None:
        items = self.items()
        schedule = Schedule(items)
        for one in items[::3]:
            schedule = schedule.without(one)
        for one in items[1::3]:
            schedule = schedule.handed_over(one, START)
        rest = items[2::3]
        for automation_id in range(1, 8):
            assert schedule.waiting_of(automation_id) == self.expected(rest, automation_id)
        below_nodes(schedule._waiting._root, schedule._waiting._height)


@pytest.mark.parametrize("size", [0, 1, 64, 65, 2049])
def test_build_then_remove_everything_leaves_an_empty_schedule(size: int) -> None:
    items = [item(i, i) for i in range(1, size + 1)]
    schedule = Schedule(items)
    for one in items:
        schedule = schedule.without(one)
    assert schedule == EMPTY_SCHEDULE
    assert schedule.as_tuple() == ()
