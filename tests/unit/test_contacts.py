"""The contacts side of the generated world (generator/contacts.py).

One small world (12k households, 10 districts, 3 months) is simulated once per
session; the tests read its rows. A compact evaluator in this file recomputes
the planted call measures from the rows (decisions D-20..D-22, D-30, D-44) to
prove every unit kind is exercised: passing and failing units at each grain.
"""

from __future__ import annotations

import collections
import itertools
from dataclasses import replace
from datetime import date, datetime, timedelta

import numpy as np
import pytest

from generator import formats, presets
from generator.contacts import ENTITIES, ContactsSimulator, Quota, day_factor, diurnal
from generator.oracle import AnswerKey
from generator.population import build_population
from kefu import contract, rulebook, workcal

SMALL = replace(presets.get("demo"), households=12_000, districts=10, months=3, halls=4)


def simulate(preset, seed: int, days: int | None = None):
    rng = np.random.default_rng(seed)
    pop = build_population(preset, rng)
    sim = ContactsSimulator(pop, preset, rng, pop.start, pop.end)
    by_day: dict[date, dict[str, list[dict]]] = {}
    d = pop.start
    while d <= pop.end and (days is None or (d - pop.start).days < days):
        by_day[d] = {e: list(rows) for e, rows in sim.day(d).items()}
        d += timedelta(days=1)
    return pop, sim, by_day


@pytest.fixture(scope="module")
def world():
    pop, sim, by_day = simulate(SMALL, 5)
    rows = collections.defaultdict(list)
    for day_rows in by_day.values():
        for e, rs in day_rows.items():
            rows[e].extend(rs)
    return pop, sim, by_day, rows


def month(t: datetime) -> str:
    return t.strftime("%Y-%m")


# ----------------------------------------------------------------------------- contract
def test_every_entity_is_delivered_every_day(world):
    _, _, by_day, _ = world
    for d, exports in by_day.items():
        assert set(exports) == set(ENTITIES), d


def test_rows_follow_the_contract(world):
    _, _, _, rows = world
    for entity in ENTITIES:
        ent = contract.entity(entity)
        fmt = formats.FORMATS[entity]
        assert rows[entity], f"no {entity} rows generated"
        for r in rows[entity]:
            assert list(r) == ent.column_names, entity
            for c in ent.columns:
                v = r[c.name]
                if v is None:
                    assert not c.required, f"{entity}.{c.name} is required but empty: {r}"
                    continue
                if c.type == "enum":
                    assert v in c.values, f"{entity}.{c.name}={v!r}"
                elif c.type == "timestamp":
                    assert isinstance(v, datetime) and formats.truncate(v, fmt) == v, f"{entity}.{c.name}={v!r}"
                elif c.type == "boolean":
                    assert isinstance(v, bool), f"{entity}.{c.name}={v!r}"
                elif c.type == "integer":
                    assert isinstance(v, int) and not isinstance(v, bool), f"{entity}.{c.name}={v!r}"
                elif c.type == "string":
                    assert isinstance(v, str) and v, f"{entity}.{c.name}={v!r}"


def test_keys_are_unique(world):
    _, _, _, rows = world
    for entity in ENTITIES:
        key = contract.entity(entity).key
        seen = collections.Counter(tuple(r[k] for k in key) for r in rows[entity])
        assert max(seen.values()) == 1, entity


def test_rows_are_exported_on_their_event_day(world):
    _, _, by_day, _ = world
    event = {
        "calls": "arrived_at",
        "surveys": "surveyed_at",
        "outbound": "contacted_at",
        "hall_visits": "ticket_taken_at",
        "suspensions": "suspended_at",
        "works": "start_at",
        "callbacks": "callback_at",
    }
    for d, exports in by_day.items():
        for entity, col in event.items():
            assert all(r[col].date() == d for r in exports[entity]), (entity, d)
        works = {w["work_id"] for w in exports["works"]}
        assert all(n["work_id"] in works for n in exports["work_notices"]), d


def test_call_milestones_are_ordered_and_talk_time_is_not_negative(world):
    _, _, _, rows = world
    for c in rows["calls"]:
        if c["queued_at"] is not None:
            assert c["queued_at"] >= c["arrived_at"]
        if c["answered_at"] is not None:
            assert c["ended_at"] >= c["answered_at"] >= c["queued_at"]
            assert c["talk_seconds"] == (c["ended_at"] - c["answered_at"]).total_seconds() >= 0
            assert c["agent_id"] and not c["abandoned"]
        else:
            assert c["talk_seconds"] is None and c["agent_id"] is None and c["transfer_type"] == "none"
        assert c["ended_at"] >= c["arrived_at"]
        if c["abandoned"]:
            assert c["human_requested"] and c["answered_at"] is None and c["ended_at"] > c["queued_at"]
        if not c["human_requested"]:
            assert c["queued_at"] is None and not c["abandoned"]
        if c["transfer_type"] != "none":
            assert c["transfer_requested"] is not None and c["transfer_outcome"] is not None
            assert c["transfer_queued_at"] >= c["answered_at"]
            if c["transfer_outcome"] == "failed":
                assert c["transfer_answered_at"] is None
            else:
                assert c["ended_at"] >= c["transfer_answered_at"] >= c["transfer_queued_at"]
        else:
            assert c["transfer_queued_at"] is None and c["transfer_outcome"] is None


def test_vip_tiers_use_the_vip_queue_and_unidentified_callers_the_ordinary_one(world):
    _, _, _, rows = world
    vip = rulebook.vip_tiers()
    kinds = collections.Counter()
    for c in rows["calls"]:
        assert c["queue"] == ("vip" if c["customer_tier"] in vip else "ordinary")
        if c["customer_id"] is None:
            kinds["unidentified"] += 1
            assert c["district_id"] is None and c["queue"] == "ordinary"
        kinds[c["queue"]] += 1
    assert kinds["unidentified"] > 0 and kinds["vip"] > 0 and kinds["ordinary"] > 0


def test_abandons_are_both_shorter_and_longer_than_the_service_level(world):
    _, _, _, rows = world
    limit = rulebook.load()["H1"].limit("all").duration
    waits = [c["ended_at"] - c["queued_at"] for c in rows["calls"] if c["abandoned"]]
    assert any(w < limit for w in waits) and any(w > limit for w in waits)


def test_transfers_have_every_outcome_and_every_call_type_occurs(world):
    _, _, _, rows = world
    outcomes = {(c["transfer_type"], c["transfer_outcome"]) for c in rows["calls"]}
    for t in ("expert", "self_service"):
        for o in ("success", "failed", "misrouted"):
            assert (t, o) in outcomes
    assert {c["call_type"] for c in rows["calls"]} == {"fault", "consultation", "complaint", "other"}


def test_repeat_callers_call_again_with_the_same_type_within_seven_days(world):
    _, _, _, rows = world
    last: dict[tuple[str, str], datetime] = {}
    repeats = identified = 0
    for c in sorted(rows["calls"], key=lambda c: c["arrived_at"]):
        if c["customer_id"] is None:
            continue
        identified += 1
        k = (c["customer_id"], c["call_type"])
        if k in last and c["arrived_at"] - last[k] <= timedelta(days=7):
            repeats += 1
        last[k] = c["arrived_at"]
    assert 0.03 < repeats / identified < 0.3


# ----------------------------------------------------------------------------- volume and seasonality
def test_call_volume_scales_with_the_number_of_households():
    counts, customers = [], []
    for households in (15_000, 120_000):
        pop, _, by_day = simulate(replace(SMALL, households=households), 1, days=14)
        counts.append(sum(len(x["calls"]) for x in by_day.values()))
        customers.append(pop.n_customers)
    assert customers[1] > 4 * customers[0]
    assert counts[1] / counts[0] == pytest.approx(customers[1] / customers[0], rel=0.15)


def test_presets_reach_their_call_volumes():
    # calls per household per month × households × months ≈ the documented preset sizes
    for name, target in (("demo", 60_000), ("city", 3_000_000), ("province", 50_000_000)):
        p = presets.get(name)
        rate = getattr(p, "calls_per_household_month", None) or 0.4
        assert 0.6 * target < p.households * rate * p.months < 1.4 * target, name


def test_peak_hours_have_more_calls_than_three_in_the_morning(world):
    _, _, _, rows = world
    by_hour = collections.Counter(c["arrived_at"].hour for c in rows["calls"])
    for peak in (10, 15, 20):
        assert by_hour[peak] > 10 * by_hour[3]
    assert by_hour[10] > by_hour[7] and by_hour[15] > by_hour[12] and by_hour[20] > by_hour[23]


def test_spring_festival_has_fewer_calls_than_an_ordinary_week(world):
    _, _, by_day, _ = world
    festival = sum(len(by_day[date(2026, 2, 16) + timedelta(days=i)]["calls"]) for i in range(5))
    ordinary = sum(len(by_day[date(2026, 3, 9) + timedelta(days=i)]["calls"]) for i in range(5))
    assert festival < 0.7 * ordinary


def test_adjusted_working_saturday_behaves_like_a_working_day():
    # 2026-02-14 is a 调休 Saturday (a working day); 2026-02-07 an ordinary Saturday
    assert workcal.is_workday(date(2026, 2, 14))
    assert day_factor(date(2026, 2, 14)) > 0.95 > 0.85 > day_factor(date(2026, 2, 7))
    assert np.array_equal(diurnal(date(2026, 2, 14)), diurnal(date(2026, 2, 12)))
    assert day_factor(date(2026, 10, 2)) < day_factor(date(2026, 10, 9))


# ----------------------------------------------------------------------------- determinism
def test_same_seed_gives_the_same_rows_and_another_seed_other_rows():
    a = simulate(SMALL, 9, days=3)[2]
    b = simulate(SMALL, 9, days=3)[2]
    c = simulate(SMALL, 10, days=3)[2]
    assert a == b
    assert a != c


def test_days_must_be_asked_in_increasing_order():
    rng = np.random.default_rng(0)
    pop = build_population(SMALL, rng)
    sim = ContactsSimulator(pop, SMALL, rng, pop.start, pop.end)
    sim.day(date(2026, 1, 2))
    with pytest.raises(ValueError, match="increase"):
        sim.day(date(2026, 1, 1))


def test_quota_turns_a_rate_into_exact_counts():
    q = Quota()
    group = np.zeros(50, dtype=np.int64)
    at_most = q.draw(group, {0: (("x",), 0.07, Quota.AT_MOST)})
    at_least = q.draw(group, {0: (("y",), 0.07, Quota.AT_LEAST)})
    assert at_most.sum() == 3 and at_least.sum() == 4
    # the accumulator carries over between calls (days) of the same key
    more = q.draw(np.zeros(50, dtype=np.int64), {0: (("x",), 0.07, Quota.AT_MOST)})
    assert at_most.sum() + more.sum() == 7


# ----------------------------------------------------------------------------- planted measures
@pytest.fixture(scope="module")
def judged(world):
    """(measure, month, grain, unit) -> passed, as the independent answer key judges the simulated rows."""
    pop, _, by_day, _ = world
    key = AnswerKey(pop.start, pop.end)
    for day, day_rows in by_day.items():
        for entity, rows in day_rows.items():
            for r in rows:
                key.feed(entity, r)
        key.end_of_day(day)
    rb = rulebook.load()
    return {
        (r["measure_id"], r["period_month"], r["grain"], r["unit_id"]): rb[r["measure_id"]].passes(
            r["value"], r["unit_id"], r["unit_id"]
        )
        for r in key.finish()
        if r["measure_id"] in CALL_MEASURES
    }


CALL_MEASURES = {"H1", "H2.1", "H2.2", "H3.1", "H3.2", "H3.3", "H4", "H5", "S1", "P1"}


@pytest.mark.parametrize(
    "measure,grains",
    [
        ("H1", ("company", "district")),
        ("H2.1", ("company", "queue")),
        ("H2.2", ("company", "queue")),
        ("H3.1", ("company", "queue")),
        ("H3.2", ("company", "queue")),
        ("H3.3", ("company", "queue")),
        ("H4", ("company", "district")),
        ("H5", ("company", "queue")),
        ("S1", ("brand_group",)),
        ("P1", ("company", "tier_group")),
    ],
)
def test_every_call_measure_has_passing_and_failing_units_at_each_grain(judged, measure, grains):
    assert set(grains) == set(rulebook.load()[measure].grains)
    for g in grains:
        results = [p for (m, _, gg, _), p in judged.items() if m == measure and gg == g]
        assert True in results and False in results, (measure, g)


def test_vip_queue_passes_transfer_measures_and_ordinary_queue_varies_by_month(judged):
    for m in ("H2.1", "H2.2", "H3.1", "H3.2", "H3.3", "H5"):
        vip = [p for (mm, _, g, u), p in judged.items() if mm == m and g == "queue" and u == "vip"]
        ordinary = [p for (mm, _, g, u), p in judged.items() if mm == m and g == "queue" and u == "ordinary"]
        assert all(vip), m
        assert True in ordinary and False in ordinary, m


def test_each_brand_group_and_tier_group_passes_in_some_months_and_fails_in_others(judged):
    for m, grain, units in (
        ("S1", "brand_group", ("gotone_vip", "gotone", "other")),
        ("P1", "tier_group", ("vip", "ordinary")),
    ):
        for u in units:
            results = [p for (mm, _, g, uu), p in judged.items() if mm == m and g == grain and uu == u]
            assert True in results and False in results, (m, u)


def test_h5_plants_an_unanswered_spring_festival_night_hour(world):
    _, _, by_day, _ = world
    unanswered_hours = []
    for d in (date(2026, 2, 15) + timedelta(days=i) for i in range(9)):  # Spring Festival 2026-02-15..23
        by_hour = collections.defaultdict(list)
        for c in by_day[d]["calls"]:
            if c["call_type"] == "fault" and c["human_requested"] and c["queue"] == "ordinary":
                by_hour[c["queued_at"].hour].append(c["answered_at"] is None)
        unanswered_hours += [(d, h) for h, v in by_hour.items() if all(v) and h < 6]
    assert unanswered_hours


def test_p1_breaches_include_windows_across_a_month_boundary(world):
    _, _, _, rows = world
    window = rulebook.load()["P1"].limit("window").duration
    phone = collections.defaultdict(list)
    for o in rows["outbound"]:
        if o["channel"] == "phone":
            phone[o["customer_id"]].append(o["contacted_at"])
    crossing = 0
    for times in phone.values():
        times.sort()
        for a, b in itertools.pairwise(times):
            if b - a < window and (a.year, a.month) != (b.year, b.month):
                crossing += 1
    assert crossing > 0


def test_outbound_has_every_purpose_and_phone_and_sms(world):
    _, _, _, rows = world
    assert {o["purpose"] for o in rows["outbound"]} == {"marketing", "care", "notice", "other"}
    assert {"phone", "sms"} <= {o["channel"] for o in rows["outbound"]}


def test_surveys_are_hotline_surveys_of_answered_identified_calls(world):
    _, _, _, rows = world
    calls = {c["call_id"]: c for c in rows["calls"]}
    answers = collections.Counter()
    for s in rows["surveys"]:
        c = calls[s["call_id"]]
        assert s["channel"] == "hotline" and s["ticket_id"] is None
        assert c["answered_at"] is not None and c["customer_id"] == s["customer_id"]
        assert s["surveyed_at"] >= c["ended_at"].replace(second=0)
        answers[s["answer"]] += 1
    assert {"score_1", "score_5", "unreachable", "refused"} <= set(answers)


# ----------------------------------------------------------------------------- clean districts and halls
def test_clean_districts_have_no_planted_violations(world, judged):
    pop, _sim, _, rows = world
    clean = {pop.districts[i]["district_id"] for i in np.flatnonzero(pop.district_quality == 0)}
    assert clean
    for (m, _, g, u), p in judged.items():
        if g == "district" and u in clean:
            assert p, (m, u)
    n1 = rulebook.load()["N1"].limit("all").duration
    n2 = rulebook.load()["N2"].limit("all").duration
    for s in rows["suspensions"]:
        if s["district_id"] in clean:
            assert s["notice_at"] is not None and s["suspended_at"] - s["notice_at"] >= n1
    works = {w["work_id"]: w for w in rows["works"]}
    for n in rows["work_notices"]:
        w = works[n["work_id"]]
        if w["district_id"] in clean:
            assert n["notified_at"] is not None and w["start_at"] - n["notified_at"] >= n2


def test_some_unclean_districts_breach_the_notice_rules(world):
    _, _, _, rows = world
    n1 = rulebook.load()["N1"].limit("all").duration
    late = [s for s in rows["suspensions"] if s["notice_at"] is None or s["suspended_at"] - s["notice_at"] < n1]
    assert late
    works = {w["work_id"]: w for w in rows["works"]}
    assert any(n["notified_at"] is None for n in rows["work_notices"])
    assert {w["work_kind"] for w in rows["works"]} == {"engineering", "line_adjustment", "cutover"}
    assert len(works) == len(rows["works"])


def test_halls_some_clean_some_not(world):
    _, _, _, rows = world
    rb = rulebook.load()
    vip = rulebook.vip_tiers()
    limits = {k: rb["B1"].limit(k).duration for k in ("vip", "gotone", "other")}
    b2 = rb["B2"].limit("all").duration
    bad = collections.Counter()
    for v in rows["hall_visits"]:
        t = v["customer_tier"]
        lim = limits["vip" if t in vip else ("gotone" if t == "gotone" else "other")]
        if v["served_at"] is None or v["served_at"] - v["ticket_taken_at"] > lim:
            bad[v["hall_id"]] += 1
        if v["vip_card_shown"] and (v["received_at"] is None or v["received_at"] - v["ticket_taken_at"] > b2):
            bad[v["hall_id"]] += 1
        if v["vip_card_shown"]:
            assert t in vip
    halls = {v["hall_id"] for v in rows["hall_visits"]}
    assert 0 < len(bad) < len(halls)
    assert any(v["served_at"] is None for v in rows["hall_visits"])


def test_cutover_callbacks_follow_the_cutover_and_some_are_late_or_missing(world):
    pop, _, _, rows = world
    works = {w["work_id"]: w for w in rows["works"] if w["work_kind"] == "cutover"}
    cb = {(c["work_id"], c["customer_id"]): c["callback_at"] for c in rows["callbacks"] if c["reason"] == "cutover"}
    on_time = late_or_missing = 0
    for n in rows["work_notices"]:
        w = works.get(n["work_id"])
        if w is None:
            continue
        deadline = workcal.end_of_nth_working_day(w["end_at"], 2)
        if deadline.date() > pop.end:
            continue
        t = cb.get((n["work_id"], n["customer_id"]))
        if t is not None:
            assert t > w["end_at"]
        if t is not None and t <= deadline:
            on_time += 1
        else:
            late_or_missing += 1
    assert on_time > 0 and late_or_missing > 0


def test_red_vip_sms_pace_is_ahead_in_some_districts_and_behind_in_others(world):
    pop, _, _, rows = world
    red = pop.tier == "red_vip"
    ids = pop.customer_id
    done = {c["customer_id"] for c in rows["callbacks"] if c["reason"] == "red_vip_sms"}
    assert all(c["channel"] == "sms" for c in rows["callbacks"] if c["reason"] == "red_vip_sms")
    pace = 3 / 12  # the small world ends in March
    ahead = behind = 0
    for d in range(len(pop.districts)):
        members = np.flatnonzero(red & (pop.district_idx == d))
        if len(members) == 0:
            continue
        share = np.mean([ids[i] in done for i in members])
        ahead += share >= pace
        behind += share < pace
    assert ahead > 0 and behind > 0


def test_project_customers_get_callbacks_and_vips_get_care_with_misses_only_in_unclean_districts(world):
    pop, _, _, rows = world
    assert any(c["reason"] == "project" for c in rows["callbacks"])
    cared = {o["customer_id"] for o in rows["outbound"] if o["purpose"] == "care"}
    vip = np.isin(pop.tier, list(rulebook.vip_tiers())) & (pop.opened <= np.datetime64(pop.end))
    missed = collections.Counter()
    for i in np.flatnonzero(vip):
        if pop.customer_id[i] not in cared:
            missed[int(pop.district_idx[i])] += 1
    assert missed
    assert all(pop.district_quality[d] > 0 for d in missed)


def test_caller_phones_match_the_customers_list(world):
    pop, sim, _, rows = world
    idx = np.arange(0, pop.n_customers, 97)
    assert sim.phones(idx).tolist() == [pop.customer_phone(int(i)) for i in idx]
    index = {cid: i for i, cid in enumerate(pop.customer_id.tolist())}
    for c in rows["calls"][:2000]:
        if c["customer_id"] is not None:
            assert c["caller_phone"] == pop.customer_phone(index[c["customer_id"]])
