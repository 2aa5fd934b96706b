"""Flee's countries and country closures as the scenario's ``[[borders]]`` (import-flee).

What Flee does (github.com/djgroen/flee):

- flee/InputGeography.py, ``InputGeography.ReadClosuresFromCSV`` reads the rows
  ``closure_type,name1,name2,closure_start,closure_end`` of closures.csv, and
  ``StoreInputGeographyInEcosystem`` keeps them, in file order, as
  ``[type, name1, name2, int(start), int(end)]`` in ``Ecosystem.closures``.
- flee/flee.py, ``Ecosystem.enact_border_closures(time, twoway=True)``: for each closure in
  file order, ``time == closure_start`` calls ``close_border`` for a ``country`` row, then
  ``time == closure_end`` calls ``reopen_border``. ``close_border`` runs
  ``_change_border_1way`` both ways: every link from a location of one country to a location
  of the other moves to ``closed_links`` (a pair with no such link closes nothing, and Flee
  warns "no link closed"); ``reopen_border`` moves them all back, whichever row closed them.
  Closing a closed border or reopening an open one changes nothing.
- runscripts/run.py calls ``e.enact_border_closures(t)`` and then ``e.evolve()`` for each day
  ``t`` in ``range(0, end_time)``: a closure acts before the day's moves.

So one row closes days ``closure_start <= t < closure_end``: ``[closure_start, closure_end)``,
the end day itself open. ``closure_end = -1`` matches no day: closed to the end of the run;
an end before the start reopens nothing and the border stays closed from the start on; an end
equal to the start reopens it before anyone moves (no day closed). Several rows on one pair
are events replayed in that order, not a union of periods (:func:`closed_periods`).

Here a border is checked when a displaced household seeks a place abroad, for its home
country and the place's country (:func:`simulator.steps.cross.permit_displaced`), not link by
link along the way. Pairs of countries without a route of their own but reachable through
others get an open border too (Flee's agents walk through), closed on the days the closures
cut every way between them; without it nobody could move between them at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import tomli_w

from simulator.interop.flee.reader import FleeCase, FleeClosure


@dataclass(frozen=True)
class ClosedPeriod:
    """Days ``[first_day, end_day)`` a border is closed, and where that comes from."""

    first_day: int
    end_day: int
    source: str


@dataclass(frozen=True)
class FleeBorder:
    """A ``[[borders]]`` entry: two countries, always ``open``, with their closed periods."""

    countries: tuple[str, str]
    periods: tuple[ClosedPeriod, ...]
    via: tuple[str, ...] = ()  #: when no route joins the two: countries on the shortest way


def _still_closed(by: FleeClosure, length_days: int) -> str:
    end = by.end_day
    if end == -1:
        why = "closure_end -1: never reopens"
    elif end < by.start_day:
        why = f"closure_end {end} is before closure_start: Flee never reopens it"
    else:
        why = f"closure_end {end} is after the run's last day, {length_days - 1}"
    return f"closures.csv line {by.line}: closed on day {by.start_day}, {why}"


def closed_periods(rows: Sequence[FleeClosure], length_days: int) -> list[ClosedPeriod]:
    """Days a border (or a link, location or camp) is closed by its closure ``rows``, as in Flee.

    Replays flee/flee.py ``Ecosystem.enact_border_closures`` over days 0..length_days-1:
    events sorted by day, then row, a row's closing before its reopening; a close of a closed
    border and a reopening of an open one change nothing.
    """
    events = sorted((day, k, what) for k, c in enumerate(rows)
                    for what, day in enumerate((c.start_day, c.end_day))
                    if 0 <= day < length_days)
    out: list[ClosedPeriod] = []
    since, by = None, rows[0] if rows else None
    for day, k, what in events:
        if what == 0 and since is None:
            since, by = day, rows[k]
        elif what == 1 and since is not None:
            if day > since:
                lines = (f"line {by.line}" if rows[k] is by else
                         f"line {by.line} closes it, line {rows[k].line} reopens it")
                out.append(ClosedPeriod(since, day, f"closures.csv {lines}: closed on day "
                                                    f"{since}, reopened on day {day}"))
            since = None
    if since is not None:
        out.append(ClosedPeriod(since, length_days, _still_closed(by, length_days)))
    return out


def _connected(countries: list[str], links: list[tuple[str, str]]) -> dict[str, int]:
    """Component number of each country over two-way ``links``."""
    comp = {c: k for k, c in enumerate(countries)}
    changed = True
    while changed:  # a few countries: relax until stable
        changed = False
        for a, b in links:
            low = min(comp[a], comp[b])
            if comp[a] != low or comp[b] != low:
                comp[a] = comp[b] = low
                changed = True
    return comp


def _way(a: str, b: str, links: list[tuple[str, str]]) -> tuple[str, ...]:
    """The countries passed through on a way from ``a`` to ``b`` with the fewest of them."""
    came = {a: a}
    todo = [a]
    while b not in came:  # breadth first; the caller knows b is reachable
        here = todo.pop(0)
        for x, y in links:
            for u, v in ((x, y), (y, x)):
                if u == here and v not in came:
                    came[v] = here
                    todo.append(v)
    way = [came[b]]
    while way[-1] != a:
        way.append(came[way[-1]])
    return tuple(reversed(way[:-1]))


def _transit(countries: list[str], adjacent: dict[tuple[str, str], FleeBorder],
             length_days: int) -> list[FleeBorder]:
    """Borders of pairs without a route of their own that routes through others connect.

    Closed on the days when the borders open that day connect them no longer.
    """
    comp = _connected(countries, list(adjacent))
    cuts = sorted({0} | {d for b in adjacent.values() for p in b.periods
                         for d in (p.first_day, p.end_day) if d < length_days})
    out = []
    for i, a in enumerate(countries):
        for b in countries[i + 1:]:
            if (a, b) in adjacent or comp[a] != comp[b]:
                continue
            shut = []
            for lo, hi in zip(cuts, [*cuts[1:], length_days]):
                open_now = [pair for pair, border in adjacent.items()
                            if not any(p.first_day <= lo < p.end_day for p in border.periods)]
                now = _connected(countries, open_now)
                if now[a] != now[b]:
                    if shut and shut[-1][1] == lo:
                        shut[-1] = (shut[-1][0], hi)
                    else:
                        shut.append((lo, hi))
            via = _way(a, b, list(adjacent))
            out.append(FleeBorder((a, b), tuple(
                ClosedPeriod(lo, hi, "the closures above cut every way between them")
                for lo, hi in shut), via))
    return out


def country_borders(case: FleeCase) -> tuple[list[FleeBorder], list[str]]:
    """The borders of ``case``'s countries, and notes on the closures applied and not.

    One open border for each pair of countries that a route joins (Flee lets agents cross
    any route until a closure closes it), with the closed periods of that pair's ``country``
    closures; then one for each pair reachable only through other countries. A country
    closure naming a pair no route joins, or one country twice, is a note and not applied.
    """
    country = {loc.name: loc.country for loc in case.locations}
    countries = list(dict.fromkeys(country.values()))
    order = {c: k for k, c in enumerate(countries)}

    def pair(a: str, b: str) -> tuple[str, str]:
        return (a, b) if order[a] <= order[b] else (b, a)

    joined = sorted({pair(country[r.name1], country[r.name2]) for r in case.routes
                     if country[r.name1] != country[r.name2]},
                    key=lambda p: (order[p[0]], order[p[1]]))
    rows: dict[tuple[str, str], list[FleeClosure]] = {p: [] for p in joined}
    notes = []
    n = case.length_days
    for c in (c for c in case.closures if c.closure_type == "country"):
        where = f"closures.csv line {c.line}: country closure {c.name1}–{c.name2}"
        if c.name1 == c.name2:
            notes.append(f"{where} names one country twice (Flee would close every route "
                         f"within {c.name1}): not applied")
        elif pair(c.name1, c.name2) not in rows:
            notes.append(f"{where}: no route joins {c.name1} and {c.name2}, so Flee closes "
                         "nothing (it warns 'no link closed'): not applied")
        else:
            rows[pair(c.name1, c.name2)].append(c)
            if c.start_day >= n:
                notes.append(f"{where} starts on day {c.start_day}, after the run's last day "
                             f"({n - 1}): no day closed")
            elif c.start_day == c.end_day:
                notes.append(f"{where} closes and reopens on day {c.start_day}, before anyone "
                             "moves (Flee reopens on closure_end): no day closed")
    adjacent = {p: FleeBorder(p, tuple(closed_periods(rows[p], n))) for p in joined}
    for p, border in adjacent.items():
        for period in border.periods:
            notes.append(f"border {p[0]}–{p[1]} closed on days [{period.first_day}, "
                         f"{period.end_day}) ({period.source})")
    transit = _transit(countries, adjacent, n)
    for border in transit:
        a, b = border.countries
        notes.append(f"no route joins {a} and {b}: an open border between them, as Flee's "
                     f"agents pass through other countries ({' and '.join(border.via)} on the "
                     "shortest way)"
                     + "".join(f"; closed on days [{p.first_day}, {p.end_day}) when the "
                               f"closures cut every way" for p in border.periods))
    return [*adjacent.values(), *transit], notes


def _str(text: str) -> str:
    return tomli_w.dumps({"x": text})[4:-1]  # a TOML string, quoted and escaped


def borders_toml(borders: list[FleeBorder]) -> str:
    """The ``[[borders]]`` tables, each closed period commented with where it comes from."""
    if not borders:
        return ""
    out = ["\n# Borders between the countries of locations.csv (regions.csv, column country).",
           "# Flee lets agents cross any route until closures.csv closes the border, so each is",
           "# open; closed_days [first_day, end_day) come from its country closures (Flee",
           "# closes on closure_start and reopens on closure_end, before the day's moves).", ""]
    for border in borders:
        a, b = border.countries
        out.append("[[borders]]")
        if border.via:
            out.append("# no route joins them: people pass through other countries, as in Flee "
                       f"({' and '.join(border.via)} on the shortest way)")
        out += [f"countries = [{_str(a)}, {_str(b)}]", 'policy = "open"']
        if border.periods:
            out.append("closed_days = [")
            out += [f"    [{p.first_day}, {p.end_day}],  # {p.source}" for p in border.periods]
            out.append("]")
        out.append("")
    return "\n".join(out)
