"""Prize allocation, a pure function: worked examples (research/racing.md §2.3) and
properties that hold for every table and ranking.

The remainder rule under test: tied starters each get floor(pool / n) fen, exactly equal;
the pool mod n fen are not paid and are reported as ``undistributed_fen``.
"""

import random
from collections import defaultdict
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from events.awards.allocation import (
    Allocation,
    AllocationError,
    Starter,
    StarterStatus,
    WithholdingRule,
    allocate,
)

YUAN = 100
K = 1000 * YUAN

LONG_RACE = [
    80 * K,
    50 * K,
    40 * K,
    30 * K,
    20 * K,
    15 * K,
    *[10 * K] * 4,
    *[5 * K] * 5,
    *[3 * K] * 5,
]
YOUTH_RACE = [20 * K, 15 * K, 10 * K, 8 * K, 5 * K, 3 * K, *[2 * K] * 4]


def table_of(prizes: list[int]) -> dict[int, int]:
    return dict(enumerate(prizes, start=1))


def ranked(*positions: int) -> list[Starter]:
    """Finishers s1, s2, ... at these positions."""
    return [Starter(f"s{i}", position=p) for i, p in enumerate(positions, start=1)]


def conserves(result: Allocation) -> bool:
    return (
        result.awarded_fen + result.undistributed_fen + result.unawarded_fen
        == result.table_total_fen
    )


# --- the worked dead-heat examples of research/racing.md §2.3 -------------------------------


def test_two_way_dead_heat_for_first_shares_first_and_second_and_next_gets_third() -> None:
    result = allocate(table_of(LONG_RACE), ranked(1, 1, 3))
    assert result.prize_of("s1") == result.prize_of("s2") == 65_000 * YUAN
    assert result.prize_of("s3") == 40_000 * YUAN
    assert result.prizes[0].pooled_places == (1, 2)
    assert result.prizes[2].place == 3


def test_three_way_dead_heat_for_second_pools_second_to_fourth_and_next_gets_fifth() -> None:
    result = allocate(table_of(LONG_RACE), ranked(1, 2, 2, 2, 5))
    assert [result.prize_of(s) for s in ("s2", "s3", "s4")] == [40_000 * YUAN] * 3
    assert result.prize_of("s5") == 20_000 * YUAN
    assert result.prize_of("s1") == 80_000 * YUAN


def test_dead_heat_at_the_last_paid_place_splits_it_with_the_unpaid_place() -> None:
    result = allocate(table_of(LONG_RACE), ranked(*range(1, 20), 20, 20))
    assert result.prize_of("s20") == result.prize_of("s21") == 1_500 * YUAN
    assert result.prizes[-1].pooled_places == (20, 21)
    assert result.awarded_fen == sum(LONG_RACE)
    assert result.undistributed_fen == 0


def test_three_way_dead_heat_for_fourth_in_the_youth_race_applies_the_remainder_rule() -> None:
    result = allocate(table_of(YOUTH_RACE), ranked(1, 2, 3, 4, 4, 4, 7))
    assert [result.prize_of(s) for s in ("s4", "s5", "s6")] == [533_333] * 3
    assert result.undistributed_fen == 1  # 1,600,000 fen = 3 x 533,333 + 1
    assert result.prize_of("s7") == 2_000 * YUAN
    assert conserves(result)


def test_dead_heat_for_twelfth_shares_the_lucky_thirteenth_prize() -> None:
    tianzhu = [1000 * YUAN, 600 * YUAN, 300 * YUAN, *[100 * YUAN] * 9, 1000 * YUAN]
    result = allocate(table_of(tianzhu), ranked(*range(1, 12), 12, 12))
    assert result.prize_of("s12") == result.prize_of("s13") == 550 * YUAN


# --- statuses and short fields --------------------------------------------------------------


def test_fewer_finishers_than_paid_places_leaves_the_rest_unawarded_and_reported() -> None:
    result = allocate(table_of(YOUTH_RACE), ranked(1, 2, 3))
    assert result.unawarded_places == tuple(range(4, 11))
    assert result.unawarded_fen == sum(YOUTH_RACE[3:])
    assert result.awarded_fen == sum(YOUTH_RACE[:3])


def test_non_finishers_get_nothing_and_take_no_place() -> None:
    starters = [
        Starter("a", position=1),
        Starter("b", StarterStatus.DNS),
        Starter("c", StarterStatus.DNF),
        Starter("d", position=2),
    ]
    result = allocate(table_of(YOUTH_RACE), starters)
    assert result.prize_of("b") == result.prize_of("c") == 0
    assert result.prize_of("d") == 15 * K
    assert [p.place for p in result.prizes if p.starter_id in "bc"] == [None, None]


def test_a_disqualified_winner_moves_everyone_up() -> None:
    starters = [
        Starter("winner", StarterStatus.DSQ, position=1),
        Starter("second", position=2),
        Starter("third", position=3),
    ]
    result = allocate(table_of(LONG_RACE), starters)
    assert result.prize_of("winner") == 0
    assert result.prize_of("second") == 80 * K
    assert result.prize_of("third") == 50 * K


def test_a_finished_starter_without_a_position_is_refused() -> None:
    with pytest.raises(AllocationError) as caught:
        allocate(table_of(LONG_RACE), [Starter("a", position=None)])
    assert caught.value.field == "starters.0.position"


def test_a_starter_listed_twice_is_refused() -> None:
    with pytest.raises(AllocationError) as caught:
        allocate(table_of(LONG_RACE), [Starter("a", position=1), Starter("a", position=2)])
    assert caught.value.field == "starters.1.starter_id"


def test_a_table_with_a_gap_is_refused() -> None:
    with pytest.raises(AllocationError) as caught:
        allocate({1: 100, 3: 50}, ranked(1))
    assert caught.value.field == "table"


def test_withholding_applies_from_the_threshold_and_rounds_down() -> None:
    rule = WithholdingRule(enabled=True, rate_bp=2000, threshold_fen=10_000 * YUAN)
    assert rule.withheld_fen(10_000 * YUAN) == 2_000 * YUAN
    assert rule.withheld_fen(10_000 * YUAN - 1) == 0
    assert rule.withheld_fen(1_000_003) == 200_000  # 200,000.6 fen rounds down
    assert WithholdingRule().withheld_fen(80 * K) == 0  # off by default


# --- properties -------------------------------------------------------------------------------

STATUSES = st.sampled_from(list(StarterStatus))
tables = st.lists(st.integers(min_value=0, max_value=10_000_000), min_size=1, max_size=25)
rankings = st.lists(st.tuples(STATUSES, st.integers(min_value=1, max_value=8)), max_size=30)


def starters_of(entries: list[tuple[StarterStatus, int]]) -> list[Starter]:
    return [
        Starter(
            f"s{i}",
            status,
            position if status is StarterStatus.FINISHED or status is StarterStatus.DSQ else None,
        )
        for i, (status, position) in enumerate(entries)
    ]


def groups_of(result: Allocation) -> dict[tuple[int, ...], list[int]]:
    groups: dict[tuple[int, ...], list[int]] = defaultdict(list)
    for prize in result.prizes:
        if prize.place is not None:
            groups[prize.pooled_places].append(prize.prize_fen)
    return groups


@settings(max_examples=200, deadline=None)
@given(tables, rankings)
def test_no_fen_is_created_or_lost(
    prizes: list[int], entries: list[tuple[StarterStatus, int]]
) -> None:
    result = allocate(table_of(prizes), starters_of(entries))
    assert result.table_total_fen == sum(prizes)
    assert conserves(result)
    assert result.awarded_fen == sum(p.prize_fen for p in result.prizes)


@settings(max_examples=200, deadline=None)
@given(tables, rankings)
def test_tied_starters_get_exactly_equal_amounts_and_the_remainder_is_under_one_fen_each(
    prizes: list[int], entries: list[tuple[StarterStatus, int]]
) -> None:
    table = table_of(prizes)
    result = allocate(table, starters_of(entries))
    remainders = 0
    for places, amounts in groups_of(result).items():
        assert len(set(amounts)) == 1, "tied starters must get the same fen"
        assert len(amounts) == len(places)
        pool = sum(table.get(p, 0) for p in places)
        assert amounts[0] == pool // len(amounts)
        remainders += pool % len(amounts)
    assert result.undistributed_fen == remainders


@settings(max_examples=200, deadline=None)
@given(tables, rankings)
def test_prizes_are_monotone_in_place_when_the_table_is(
    prizes: list[int], entries: list[tuple[StarterStatus, int]]
) -> None:
    prizes = sorted(prizes, reverse=True)
    result = allocate(table_of(prizes), starters_of(entries))
    placed = sorted((p for p in result.prizes if p.place is not None), key=lambda p: p.place or 0)
    for ahead, behind in pairwise(placed):
        assert ahead.prize_fen >= behind.prize_fen


@settings(max_examples=200, deadline=None)
@given(tables, rankings)
def test_non_finishers_get_nothing(
    prizes: list[int], entries: list[tuple[StarterStatus, int]]
) -> None:
    result = allocate(table_of(prizes), starters_of(entries))
    for prize in result.prizes:
        if prize.status is not StarterStatus.FINISHED:
            assert prize.prize_fen == 0
            assert prize.place is None


@settings(max_examples=100, deadline=None)
@given(tables, st.integers(min_value=0, max_value=30))
def test_without_ties_each_finisher_gets_the_table_prize_of_their_place(
    prizes: list[int], finishers: int
) -> None:
    result = allocate(table_of(prizes), ranked(*range(1, finishers + 1)))
    for i, prize in enumerate(result.prizes, start=1):
        assert prize.prize_fen == (prizes[i - 1] if i <= len(prizes) else 0)
    assert result.undistributed_fen == 0
    assert result.unawarded_places == tuple(range(finishers + 1, len(prizes) + 1))


@settings(max_examples=100, deadline=None)
@given(tables, rankings)
def test_a_disqualified_starter_counts_as_absent(
    prizes: list[int], entries: list[tuple[StarterStatus, int]]
) -> None:
    starters = starters_of(entries)
    with_dsq = allocate(table_of(prizes), starters)
    without = allocate(table_of(prizes), [s for s in starters if s.status is not StarterStatus.DSQ])
    for prize in without.prizes:
        assert with_dsq.prize_of(prize.starter_id) == prize.prize_fen


@settings(max_examples=100, deadline=None)
@given(tables, rankings, st.randoms(use_true_random=False))
def test_the_order_of_the_input_does_not_matter(
    prizes: list[int], entries: list[tuple[StarterStatus, int]], rng: random.Random
) -> None:
    starters = starters_of(entries)
    shuffled = starters[:]
    rng.shuffle(shuffled)
    first, second = allocate(table_of(prizes), starters), allocate(table_of(prizes), shuffled)
    assert {p.starter_id: p.prize_fen for p in first.prizes} == {
        p.starter_id: p.prize_fen for p in second.prizes
    }
    assert first.undistributed_fen == second.undistributed_fen
