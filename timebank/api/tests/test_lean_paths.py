"""The hot paths of the API in a fixed number of statements (issue 12): a confirmation and a balance read.

Counted through the API with token authentication, inside the test's transaction: the service's
``transaction.atomic`` shows as SAVEPOINT/RELEASE where production sends BEGIN/COMMIT, so the counts are the
production counts. The webhook endpoints are not read after the commit (they are cached per process).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext

from timebank.api.selectors import visible_residents_q
from timebank.care.models import CareEvent, Need, Visit
from timebank.people.models import Resident
from timebank.people.selectors import residents_visible_to
from timebank.people.services import relationship_create

from .conftest import assert_error

pytestmark = pytest.mark.django_db


def _statements(call):
    """The statements of one request, less the rate limit's counters: production counts those in Redis
    (THROTTLE_REDIS_URL, docs/api.md); without Redis they are two more statements per request."""
    with CaptureQueriesContext(connection) as q:
        response = call()
    return response, [x["sql"] for x in q.captured_queries if '"api_ratecounter"' not in x["sql"]]


def _ledger_or_policies(sql: str) -> bool:
    # the ORM quotes table names; the ledger's own guarded INSERT does not
    return "ledger_" in sql or '"common_policyvalue"' in sql


def _two_checked_out(world, checked_out, api, token, on_commit):
    first = checked_out(minutes=60)
    second = checked_out(minutes=45, start=world.start + dt.timedelta(hours=3))
    t = token(world.worker)
    # the first confirmation opens the volunteer's account, touches the token and fills this process's caches
    # (account ids are remembered when their transaction commits: the commit callbacks run here as they would)
    with on_commit(execute=True):
        assert api.post(f"/visits/{first.pk}/confirm", token=t).status_code == 200
    return second, t


def test_the_confirmations_own_statements_are_five(api, token, world, checked_out, django_capture_on_commit_callbacks):
    """Authentication (1), the visit locked with its need, its answer's columns and the caller's right to
    confirm (1), both audit events (1), the visit (1) and the need (1), plus BEGIN/COMMIT. The rest is the
    ledger's posting and the policies (whose statements are the ledger's to cut: see the next test)."""
    second, t = _two_checked_out(world, checked_out, api, token, django_capture_on_commit_callbacks)
    r, sql = _statements(lambda: api.post(f"/visits/{second.pk}/confirm", token=t))
    assert r.status_code == 200 and r.json()["status"] == "confirmed"
    assert r.json()["elder_id"] == world.elder.pk and r.json()["volunteer_name"] == world.vol.resident.name
    assert r.json()["item"] == "chat" and r.json()["credited_minutes"] == 60
    ours = [s for s in sql if not _ledger_or_policies(s)]
    # the outermost savepoint pair is the service's transaction (BEGIN/COMMIT in production)
    ours = [s for s in ours if not s.startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))]
    assert [
        s.split()[0] + " " + s.split()[2 if s.startswith("INSERT") else 1]
        for s in ours
        if s.startswith(("INSERT", "UPDATE"))
    ] == [
        'INSERT "care_careevent"',
        'UPDATE "care_visit"',
        'UPDATE "care_need"',
    ]
    assert len(ours) == 5, ours
    assert sum(' FOR UPDATE OF "care_visit", "care_need"' in s for s in ours) == 1  # read once, locked
    assert 'FROM "api_apitoken"' in ours[0] and '"people_user"."password"' not in ours[0]  # narrow auth
    assert sum("people_staffrole" in s for s in ours) == 1  # the scope check is inside the lock
    assert CareEvent.objects.filter(visit=second, to_status="confirmed").count() == 1
    assert Need.objects.get(pk=second.need_id).status == "done"


def test_a_confirmation_through_the_api_in_at_most_10_statements(
    api, token, world, checked_out, django_capture_on_commit_callbacks
):
    """Counted as production runs it, once the volunteer's account is known to the process: the outer
    savepoint pair stands for BEGIN and COMMIT; the policies come from the process's copy."""
    second, t = _two_checked_out(world, checked_out, api, token, django_capture_on_commit_callbacks)
    r, sql = _statements(lambda: api.post(f"/visits/{second.pk}/confirm", token=t))
    assert r.status_code == 200
    assert len(sql) <= 10, "\n".join(s[:120] for s in sql)


def test_refusals_of_the_lean_confirmation_keep_their_answers(api, token, world, checked_out, other_town_admin):
    visit = checked_out(minutes=60)
    assert_error(api.post(f"/visits/{visit.pk}/confirm", token=token(other_town_admin)), 404, "not_found")
    assert_error(api.post(f"/visits/{visit.pk}/confirm", token=token(world.vol)), 403, "care.cannot_confirm")
    assert_error(api.post("/visits/99999999/confirm", token=token(world.worker)), 404, "not_found")
    assert Visit.objects.get(pk=visit.pk).status == "checked_out"
    r = api.post(f"/visits/{visit.pk}/confirm", token=token(world.son))  # the proxy son
    assert r.status_code == 200 and r.json()["confirmed_via"] == "proxy"
    again = api.post(f"/visits/{visit.pk}/confirm", token=token(world.worker))  # pressed again: unchanged
    assert again.status_code == 200 and again.json()["confirmed_via"] == "proxy"


def test_a_balance_read_is_one_statement_after_authentication(api, token, world, fund):
    fund(world.elder, 90)
    t = token(world.worker)
    assert api.get(f"/ledger/residents/{world.elder.pk}/balance", token=t).status_code == 200  # touches the token
    r, sql = _statements(lambda: api.get(f"/ledger/residents/{world.elder.pk}/balance", token=t))
    assert r.status_code == 200, r.content
    assert r.json() == {
        "resident_id": world.elder.pk,
        "posted_minutes": 90,
        "available_minutes": 90,
        "held_in_minutes": 0,
        "held_out_minutes": 0,
        "available_hours": "1.5",
    }
    assert len(sql) == 2, sql  # the token with its user; the scope check with the account's counters


def test_balance_reads_keep_the_scope(api, token, world, fund, other_town_admin, make_resident):
    fund(world.elder, 30)
    assert_error(api.get(f"/ledger/residents/{world.elder.pk}/balance", token=token(other_town_admin)), 404)
    assert api.get(f"/ledger/residents/{world.elder.pk}/balance", token=token(world.son)).json()["posted_minutes"] == 30
    stranger = make_resident(name="无关的人", age=50)
    assert_error(api.get(f"/ledger/residents/{stranger.pk}/balance", token=token(world.son)), 404)
    never = make_resident(name="没有账户", age=70, roles=["elder"])  # in scope, no account yet
    assert api.get(f"/ledger/residents/{never.pk}/balance", token=token(world.worker)).json()["posted_minutes"] == 0
    r = api.get(f"/ledger/residents/{never.pk}/statement", token=token(world.worker))
    assert r.status_code == 200 and r.json()["lines"] == []
    assert_error(api.get(f"/ledger/residents/{never.pk}/statement", token=token(other_town_admin)), 404)
    assert (
        api.get(f"/ledger/residents/{world.elder.pk}/statement", token=token(world.son)).json()["closing_minutes"] == 30
    )


def test_the_sql_scope_is_the_scope_of_residents_visible_to(
    world, make_resident, make_staff, other_community, other_town_admin, partner_admin, supervisor, login
):
    """visible_residents_q repeats the rule of people.selectors.residents_visible_to in SQL: same answer."""
    volunteer_here = make_resident(name="本镇志愿者", age=30, roles=["volunteer"])
    elder_there = make_resident(name="外镇老人", age=80, roles=["elder"], home_region=other_community)
    staff_and_resident = make_staff("social_worker", site=world.worker.staff_roles.get().site, name="住在这里的社工")
    resident_of = make_resident(name="社工本人", age=40)
    staff_and_resident.resident = resident_of
    staff_and_resident.save(update_fields=["resident"])
    ended = make_resident(name="前亲属", age=60)
    rel = relationship_create(actor=None, resident=world.elder, relative=ended, kind="child", consent_note="x")
    rel.ended_at = rel.created_at
    rel.save(update_fields=["ended_at"])
    ended_user = login(ended)
    callers = [
        world.worker,
        world.son,
        world.vol,
        other_town_admin,
        partner_admin,
        supervisor,
        staff_and_resident,
        ended_user,
        AnonymousUser(),
    ]
    everyone = set(Resident.objects.values_list("pk", flat=True))
    assert {volunteer_here.pk, elder_there.pk, world.elder.pk} <= everyone
    for user in callers:
        by_rule = set(residents_visible_to(user).values_list("pk", flat=True))
        by_sql = set(Resident.objects.filter(visible_residents_q(user)).values_list("pk", flat=True))
        assert by_sql == by_rule, user


def test_the_benchmark_baseline_write_is_off_unless_asked_and_is_one_insert(api, token, world, settings):
    from timebank.api.models import BenchmarkWrite

    t = token(world.worker)
    settings.API_BENCH_ENDPOINTS = False
    assert_error(api.post("/bench/write", token=t), 404, "not_found")
    assert not BenchmarkWrite.objects.exists()
    settings.API_BENCH_ENDPOINTS = True
    assert_error(api.post("/bench/write"), 401)
    assert_error(api.post("/bench/write", token=token(world.worker, "read")), 403)
    api.post("/bench/write", token=t)  # touches the token
    r, sql = _statements(lambda: api.post("/bench/write", token=t))
    assert r.status_code == 201 and BenchmarkWrite.objects.filter(pk=r.json()["id"], caller=world.worker.pk).exists()
    # the token, then BEGIN / INSERT / COMMIT (a savepoint pair inside the test's transaction)
    assert [s.split()[0] for s in sql] == ["SELECT", "SAVEPOINT", "INSERT", "RELEASE"], sql
