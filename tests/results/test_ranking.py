"""Ranking by each method (the pure function)."""

from events.results.models import JudgesRule, StarterResult
from events.results.ranking import Line, Rule, rank


def places(method: str, lines: list[Line], rule: Rule = Rule()) -> dict[str, int | None]:
    result = rank(method, lines, rule)
    assert not result.problems, result.problems
    return {r.line.entry_id: r.place for r in result.rows}


def test_time_ranks_lower_first_and_equal_times_dead_heat() -> None:
    assert places(
        "time",
        [
            Line("a", time_hundredths=7001),
            Line("b", time_hundredths=6999),
            Line("c", time_hundredths=7001),
            Line("d", time_hundredths=8000),
        ],
    ) == {"a": 2, "b": 1, "c": 2, "d": 4}


def test_gait_faults_over_the_limit_disqualify() -> None:
    result = rank(
        "gait_legal_time",
        [
            Line("a", time_hundredths=5000, gait_faults=1),
            Line("b", time_hundredths=6000, gait_faults=0),
        ],
        Rule(max_gait_faults=0),
    )
    rows = {r.line.entry_id: r for r in result.rows}
    assert rows["a"].status is StarterResult.DSQ
    assert "gait" in rows["a"].reason
    assert rows["b"].place == 1


def test_count_and_points_rank_more_first() -> None:
    assert places("count", [Line("a", count=8), Line("b", count=10)]) == {"a": 2, "b": 1}
    assert places("points", [Line("a", points=30), Line("b", points=12)]) == {"a": 1, "b": 2}


def test_drop_high_low_uses_the_middle_scores() -> None:
    rule = Rule(judges_rule=JudgesRule.DROP_HIGH_LOW)
    result = rank(
        "judges_score", [Line("a", scores=(1000, 600, 600)), Line("b", scores=(700, 650, 0))], rule
    )
    scores = {r.line.entry_id: (r.place, r.score) for r in result.rows}
    assert scores == {"a": (2, 600), "b": (1, 650)}


def test_times_given_with_places_must_agree() -> None:
    result = rank(
        "time",
        [Line("a", place=1, time_hundredths=7000), Line("b", place=2, time_hundredths=6000)],
        Rule(),
    )
    assert [p.code for p in result.problems] == ["times_out_of_order", "times_out_of_order"]
