"""Invariants of the surveillance matcher and of plan regeneration, for any input.

Table-driven cases (test_matching.py, test_plans.py) pin the clinical choices; the
golden story (test_sweep_golden.py) pins the whole sweep. These hold for every input
hypothesis draws: an item is fulfilled once, inside its window, by evidence of its kind
and breast, nearest to its due date; regeneration keeps or replaces every item exactly once.
"""

from collections import Counter
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from surveillance import schedule
from surveillance.services.matching import Evidence, assign

KINDS = [schedule.MAMMOGRAM, schedule.DIAGNOSTIC_MAMMOGRAM, schedule.MRI, schedule.CLINICAL_EXAM]
BREASTS = ["", "left", "right", "bilateral"]
START = date(2020, 1, 1)
days = st.integers(min_value=0, max_value=3 * 365)


@st.composite
def candidates(draw, max_size=12):
    out = []
    for n in range(draw(st.integers(0, max_size))):
        due = START + timedelta(days=draw(days))
        before, after = draw(st.integers(0, 120)), draw(st.integers(0, 120))
        out.append(schedule.Candidate(id=n + 1, kind=draw(st.sampled_from(KINDS)),
                                      laterality=draw(st.sampled_from(BREASTS)), due_date=due,
                                      window_start=due - timedelta(days=before),
                                      window_end=due + timedelta(days=after)))
    return out


@st.composite
def evidence(draw):
    ev = Evidence()
    study_days = sorted(draw(st.lists(days, max_size=8)))
    for n, d in enumerate(study_days):
        ev.studies[1].append((100 + n, 1, START + timedelta(days=d), draw(st.sampled_from(["MG", "MR"])),
                              draw(st.sampled_from(["left", "right", "bilateral"]))))
    for n, d in enumerate(sorted(draw(st.lists(days, max_size=5)))):
        ev.visits[1].append((200 + n, 1, START + timedelta(days=d)))
    return ev


@settings(max_examples=200, deadline=None)
@given(candidates(), days, st.sampled_from(["left", "right", "bilateral", None]))
def test_choose_items_picks_per_kind_the_nearest_item_whose_window_holds_the_date(items, offset, breast):
    on = START + timedelta(days=offset)
    chosen = schedule.choose_items(items, on, KINDS, breast)
    assert len({c.kind for c in chosen}) == len(chosen)  # at most one per kind
    for c in chosen:
        assert c.window_start <= on <= c.window_end
        assert breast is None or schedule.covers(c.laterality, breast)
        rivals = [o for o in items if o.kind == c.kind and o.window_start <= on <= o.window_end
                  and (breast is None or schedule.covers(o.laterality, breast))]
        assert (abs((c.due_date - on).days), c.due_date) == min(
            (abs((o.due_date - on).days), o.due_date) for o in rivals)
    for kind in set(KINDS) - {c.kind for c in chosen}:  # nothing of that kind fits
        assert not [o for o in items if o.kind == kind and o.window_start <= on <= o.window_end
                    and (breast is None or schedule.covers(o.laterality, breast))]


@settings(max_examples=200, deadline=None)
@given(candidates(), evidence())
def test_assign_fulfils_each_item_once_inside_its_window_with_matching_evidence(items, ev):
    by_id = {c.id: c for c in items}
    studies = {s[0]: s for s in ev.studies[1]}
    visits = {v[0]: v for v in ev.visits[1]}
    pending = list(items)
    done = assign(1, pending, ev)
    ids = [f.item_id for f in done]
    assert len(ids) == len(set(ids))
    assert {c.id for c in pending} == set(by_id) - set(ids)  # the rest stay pending
    per_source = Counter()
    for f in done:
        item = by_id[f.item_id]
        assert item.window_start <= f.on <= item.window_end
        assert (f.study_id is None) != (f.visit_id is None)
        if f.study_id is not None:
            _, _, on, modality, breast = studies[f.study_id]
            assert f.on == on and item.kind in schedule.STUDY_KINDS[modality]
            assert schedule.covers(item.laterality, breast)
            per_source[f.study_id, item.kind] += 1
        else:
            assert f.on == visits[f.visit_id][2] and item.kind == schedule.CLINICAL_EXAM
            per_source[f.visit_id, item.kind] += 1
    assert all(n == 1 for n in per_source.values())  # one item per kind per study or visit


@settings(max_examples=200, deadline=None)
@given(candidates(), candidates())
def test_regeneration_pairs_every_existing_and_wanted_item_exactly_once(existing, wanted_items):
    rows = [(c.id, c.kind, c.laterality, c.due_date) for c in existing]
    wanted = [schedule.PlannedItem(kind=c.kind, laterality=c.laterality, due_date=c.due_date,
                                   interval_months=12, due_from=c.window_start, overdue_after=c.window_end,
                                   window_start=c.window_start, window_end=c.window_end,
                                   lost_after_date=c.window_end) for c in wanted_items]
    pairs, surplus, new = schedule.pair_for_regeneration(rows, wanted)
    assert sorted([i for i, _ in pairs] + surplus) == sorted(r[0] for r in rows)
    assert Counter(map(id, [p for _, p in pairs] + new)) == Counter(map(id, wanted))
    by_id = {r[0]: r for r in rows}
    for item_id, planned in pairs:
        assert by_id[item_id][1:3] == (planned.kind, planned.laterality)  # same series
    for kind, breast in {(r[1], r[2]) for r in rows}:
        # Surplus only where the series has more existing items than wanted, new only where fewer.
        have = sum(1 for r in rows if r[1:3] == (kind, breast))
        want = sum(1 for p in wanted if (p.kind, p.laterality) == (kind, breast))
        assert sum(1 for i in surplus if by_id[i][1:3] == (kind, breast)) == max(0, have - want)
