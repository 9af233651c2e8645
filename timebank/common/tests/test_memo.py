"""common.memo: policies (and webhook endpoints) are read once a request, and a write is seen at once."""

import datetime as dt

import pytest
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from timebank.common.memo import RequestMemoMiddleware, remembered
from timebank.common.selectors import policy_value
from timebank.common.services import policy_set

pytestmark = pytest.mark.django_db


def in_request(view):
    """Run ``view`` the way a request runs it: inside the memo middleware."""
    seen = {}

    def get_response(request: HttpRequest) -> HttpResponse:
        seen["result"] = view()
        return HttpResponse()

    RequestMemoMiddleware(get_response)(HttpRequest())
    return seen["result"]


def test_policies_are_read_in_one_query_per_request():
    def view():
        with CaptureQueriesContext(connection) as ctx:
            values = (
                policy_value("people.redeem_min_age"),
                policy_value("people.serve_min_age"),
                policy_value("ledger.balance_cap_minutes"),
            )
        return values, len(ctx.captured_queries)

    values, queries = in_request(view)
    assert values[:2] == (60, 18) and values[2] > 0
    assert queries == 1
    with CaptureQueriesContext(connection) as ctx:  # outside a request nothing is remembered
        policy_value("people.redeem_min_age")
        policy_value("people.redeem_min_age")
    assert len(ctx.captured_queries) == 2


def test_a_policy_written_in_the_request_is_seen_in_the_same_request():
    today = timezone.localdate()

    def view():
        before = policy_value("people.redeem_min_age")
        policy_set(actor=None, key="people.redeem_min_age", value=65, effective_from=today)
        return before, policy_value("people.redeem_min_age")

    assert in_request(view) == (60, 65)
    assert in_request(lambda: policy_value("people.redeem_min_age")) == 65  # and in the next request
    assert in_request(lambda: policy_value("people.redeem_min_age", on=today - dt.timedelta(days=1))) == 60


def test_a_caller_changing_a_list_value_does_not_change_the_memo():
    def view():
        kinds = policy_value("people.transfer_relative_kinds")
        kinds.append("friend")
        return policy_value("people.transfer_relative_kinds")

    assert "friend" not in in_request(view)


def test_each_request_has_its_own_memo():
    calls = []

    def compute():
        calls.append(1)
        return len(calls)

    assert in_request(lambda: (remembered("k", compute), remembered("k", compute))) == (1, 1)
    assert in_request(lambda: remembered("k", compute)) == 2
    assert remembered("k", compute) == 3 and remembered("k", compute) == 4  # no request: no memo
