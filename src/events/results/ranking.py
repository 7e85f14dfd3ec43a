"""Ranking a whole race by its category's method: a pure function, no database.

Every method ends in the same thing: each finisher's ``place`` by standard competition
ranking (``1, 2, 2, 4``: starters that cannot be separated share a place, a dead heat,
and the next finisher takes the place after the pooled ones, DOMAIN rule 9).

* ``finish_order``: the officials give the places; a place given twice must be marked
  ``dead_heat`` on every starter sharing it; times, when given, must not contradict the
  order.
* ``time``: the lower time (hundredths of a second) ranks first; equal times are a dead
  heat. Places, when given as well, must agree with the times.
* ``gait_legal_time``: time, for starters whose gait faults (recorded by course judges) do
  not exceed the category's limit; more faults and the starter is disqualified.
* ``count``: more (khatas picked up, arrows on target) ranks first.
* ``judges_score``: each judge's score within the category's range; combined by the
  category's rule (mean, or drop one highest and one lowest), compared exactly.
* ``points``: more points (across races: the horse king) rank first.

DNS, DNF and DSQ starters take no place; a DSQ names its reason.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from itertools import pairwise

from events.results.models import JudgesRule, StarterResult


@dataclass(frozen=True, slots=True)
class Rule:
    judges_rule: JudgesRule = JudgesRule.MEAN
    score_min: int = 0
    score_max: int = 1000
    max_gait_faults: int = 0


@dataclass(frozen=True, slots=True)
class Line:
    """One starter as the officials entered it (scores in hundredths of a point)."""

    entry_id: str
    status: StarterResult = StarterResult.FINISHED
    place: int | None = None
    dead_heat: bool = False
    time_hundredths: int | None = None
    gait_faults: int | None = None
    count: int | None = None
    scores: tuple[int, ...] = ()
    points: int | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Ranked:
    line: Line
    status: StarterResult
    place: int | None
    dead_heat: bool
    score: int | None
    reason: str


@dataclass(frozen=True, slots=True)
class Problem:
    field: str
    code: str
    message: str


@dataclass
class Ranking:
    rows: list[Ranked] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def combined_score(scores: Sequence[int], rule: JudgesRule) -> Fraction:
    kept = sorted(scores)
    if rule is JudgesRule.DROP_HIGH_LOW:
        kept = kept[1:-1]
    return Fraction(sum(kept), len(kept))


def _round(value: Fraction) -> int:
    return int((value * 2 + 1) // 2)


def rank(method: str, lines: Sequence[Line], rule: Rule) -> Ranking:
    result = Ranking()
    problems = result.problems
    keys: dict[int, tuple[Fraction | int, ...]] = {}
    scores: dict[int, Fraction] = {}
    statuses: dict[int, StarterResult] = {}
    reasons: dict[int, str] = {}
    for i, line in enumerate(lines):
        at = f"starters.{i}"
        status, reason = line.status, line.reason
        if status is StarterResult.DSQ and not reason:
            problems.append(
                Problem(f"{at}.reason", "reason_required", "A disqualification names its reason.")
            )
        if status is not StarterResult.FINISHED:
            if line.place is not None:
                problems.append(
                    Problem(
                        f"{at}.place",
                        "place_not_allowed",
                        f"A {status.value.upper()} starter takes no place.",
                    )
                )
            statuses[i], reasons[i] = status, reason
            continue

        def need(value: object, name: str, what: str) -> bool:
            if value is None:
                problems.append(
                    Problem(
                        f"{at}.{name}",  # noqa: B023 - called in this iteration only
                        f"{name}_required",
                        f"A finisher needs {what} ({method}).",
                    )
                )
                return False
            return True

        if method == "finish_order":
            if need(line.place, "place", "a place"):
                keys[i] = (line.place or 0,)
        elif method in ("time", "gait_legal_time"):
            if need(line.time_hundredths, "time_hundredths", "a time"):
                keys[i] = (line.time_hundredths or 0,)
            if method == "gait_legal_time" and (line.gait_faults or 0) > rule.max_gait_faults:
                status = StarterResult.DSQ
                reason = reason or (
                    f"gait: {line.gait_faults} fault(s), more than {rule.max_gait_faults} allowed"
                )
                keys.pop(i, None)
        elif method == "count":
            if need(line.count, "count", "a count"):
                keys[i] = (-(line.count or 0),)
        elif method == "judges_score":
            if not line.scores:
                problems.append(
                    Problem(
                        f"{at}.scores", "scores_required", "A finisher needs the judges' scores."
                    )
                )
            bad = False
            for k, score in enumerate(line.scores):
                if not rule.score_min <= score <= rule.score_max:
                    bad = True
                    problems.append(
                        Problem(
                            f"{at}.scores.{k}",
                            "score_out_of_range",
                            f"Scores run from {rule.score_min / 100:g} "
                            f"to {rule.score_max / 100:g}.",
                        )
                    )
            if rule.judges_rule is JudgesRule.DROP_HIGH_LOW and 0 < len(line.scores) < 3:
                bad = True
                problems.append(
                    Problem(
                        f"{at}.scores",
                        "too_few_scores",
                        "Dropping the highest and lowest needs 3 scores.",
                    )
                )
            if line.scores and not bad:
                scores[i] = combined_score(line.scores, rule.judges_rule)
                keys[i] = (-scores[i],)
        elif method == "points":
            if need(line.points, "points", "points"):
                keys[i] = (-(line.points or 0),)
        else:
            problems.append(
                Problem("ranked_by", "unknown_method", f"Unknown ranking method {method!r}.")
            )
        statuses[i], reasons[i] = status, reason

    places = _places(keys)
    if method == "finish_order":
        _check_given_places(lines, keys, places, problems)
    elif method in ("time", "gait_legal_time"):
        _check_places_agree(lines, places, problems)
    if method == "finish_order":
        _check_times_follow_places(lines, keys, problems)
    if problems:
        return result
    shared = _shared(places)
    for i, line in enumerate(lines):
        place = places.get(i)
        result.rows.append(
            Ranked(
                line=replace(line),
                status=statuses[i],
                place=place,
                dead_heat=place is not None and shared.get(place, 0) > 1,
                score=_round(scores[i]) if i in scores else None,
                reason=reasons[i],
            )
        )
    return result


def _places(keys: dict[int, tuple[Fraction | int, ...]]) -> dict[int, int]:
    """Standard competition ranking of the finishers' sort keys."""
    ordered = sorted(keys, key=lambda i: keys[i])
    places: dict[int, int] = {}
    for n, i in enumerate(ordered):
        if n and keys[i] == keys[ordered[n - 1]]:
            places[i] = places[ordered[n - 1]]
        else:
            places[i] = n + 1
    return places


def _shared(places: dict[int, int]) -> dict[int, int]:
    counts: dict[int, int] = {}
    for place in places.values():
        counts[place] = counts.get(place, 0) + 1
    return counts


def _check_given_places(
    lines: Sequence[Line],
    keys: dict[int, tuple[Fraction | int, ...]],
    places: dict[int, int],
    problems: list[Problem],
) -> None:
    """Given places must be the competition ranking (1, 2, 2, 4) and a shared place a
    declared dead heat."""
    by_place: dict[int, list[int]] = {}
    for i in keys:
        by_place.setdefault(lines[i].place or 0, []).append(i)
    for i in sorted(keys, key=lambda i: (keys[i], i)):
        given = lines[i].place or 0
        group = by_place[given]
        if len(group) > 1 and not all(lines[j].dead_heat for j in group):
            if i != group[0]:
                problems.append(
                    Problem(
                        f"starters.{i}.place",
                        "place_given_twice",
                        f"Place {given} is given twice; mark every starter sharing it as a "
                        "dead heat, or correct the place.",
                    )
                )
            continue
        if places[i] != given:
            problems.append(
                Problem(
                    f"starters.{i}.place",
                    "place_out_of_sequence",
                    f"Place {given} does not follow: after the finishers ahead this starter is "
                    f"place {places[i]} (a dead heat for k-th of n starters pools places "
                    "k..k+n-1, so the next place is k+n).",
                )
            )


def _check_places_agree(
    lines: Sequence[Line], places: dict[int, int], problems: list[Problem]
) -> None:
    for i, place in places.items():
        given = lines[i].place
        if given is not None and given != place:
            problems.append(
                Problem(
                    f"starters.{i}.time_hundredths",
                    "times_out_of_order",
                    f"Place {given} was given, but the time ranks this starter place {place}.",
                )
            )


def _check_times_follow_places(
    lines: Sequence[Line], keys: dict[int, tuple[Fraction | int, ...]], problems: list[Problem]
) -> None:
    timed = sorted(
        (i for i in keys if lines[i].time_hundredths is not None),
        key=lambda i: (lines[i].place or 0, i),
    )
    for before, after in pairwise(timed):
        a, b = lines[before], lines[after]
        # Equal times may still be split by the photo; a faster time behind may not.
        if (a.place or 0) < (b.place or 0) and (a.time_hundredths or 0) > (b.time_hundredths or 0):
            problems.append(
                Problem(
                    f"starters.{after}.time_hundredths",
                    "times_out_of_order",
                    f"Place {b.place} has a faster time than place {a.place}.",
                )
            )
