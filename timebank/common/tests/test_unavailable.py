# ruff: noqa: F811 - the care fixtures are imported by name
"""A lost database connection answers 503 with Retry-After (pages and API), and the retry succeeds once.

The real thing on PostgreSQL: a live server; a second connection holds a row lock the request needs,
ends the server's backend with ``pg_terminate_backend`` while the request waits on it, and lets go.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
import requests
from django.db import connection
from django.db.utils import IntegrityError, InterfaceError, OperationalError
from django.test import Client, RequestFactory

from timebank.api.services import token_create
from timebank.care.tests.conftest import fund, login, person, world  # noqa: F401 - fixtures used below
from timebank.common.unavailable import RETRY_AFTER_SECONDS, connection_lost, server_error, unavailable_response
from timebank.ledger import services as ledger
from timebank.ledger.models import Transfer

# ------------------------------------------------------------------------------------------- no database


def _wrapped(django_cls: type[Exception], cause: BaseException) -> Exception:
    exc = django_cls(str(cause))
    exc.__cause__ = cause
    return exc


@pytest.mark.parametrize(
    ("exc", "lost"),
    [
        (_wrapped(OperationalError, psycopg.errors.AdminShutdown("terminating connection")), True),
        (_wrapped(OperationalError, psycopg.OperationalError("server closed the connection unexpectedly")), True),
        (_wrapped(OperationalError, psycopg.errors.TooManyConnections("too many clients")), True),
        (_wrapped(InterfaceError, psycopg.InterfaceError("the connection is closed")), True),
        (_wrapped(OperationalError, psycopg.errors.SerializationFailure("could not serialize")), False),
        (_wrapped(OperationalError, psycopg.errors.QueryCanceled("statement timeout")), False),
        (_wrapped(OperationalError, sqlite3.OperationalError("no such table: x")), False),
        (_wrapped(IntegrityError, psycopg.errors.UniqueViolation("duplicate key")), False),
        (ValueError("not a database error"), False),
    ],
)
def test_which_errors_are_a_lost_connection(exc, lost):
    assert connection_lost(exc) is lost


@pytest.mark.parametrize(("lang", "words"), [("zh-hans", "时间银行暂时连不上"), ("en", "briefly unavailable")])
def test_the_answer_is_503_with_retry_after_in_the_users_language(lang, words):
    factory = RequestFactory(headers={"accept-language": lang})
    page = unavailable_response(factory.get("/volunteer/hours/"))
    assert page.status_code == 503 and page["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert words in page.content.decode() and f'content="{RETRY_AFTER_SECONDS}"' in page.content.decode()
    api = unavailable_response(factory.post("/api/v1/ledger/transfers"))
    assert api.status_code == 503 and api["Retry-After"] == str(RETRY_AFTER_SECONDS)
    body = json.loads(api.content)
    assert body["code"] == "service_unavailable" and words in body["message"]
    assert body["field"] is None and body["details"] == []


def test_handler500_answers_503_for_a_lost_connection_raised_outside_a_view():
    request = RequestFactory().get("/")
    try:
        raise _wrapped(OperationalError, psycopg.errors.AdminShutdown("terminating connection"))
    except OperationalError:
        assert server_error(request).status_code == 503
    try:
        raise ValueError("a bug")
    except ValueError:
        assert server_error(request).status_code == 500


# ------------------------------------------------------------------------------------------- PostgreSQL


@pytest.fixture
def second_connection() -> Iterator[psycopg.Connection[Any]]:
    """A connection of the test's own, outside Django: it holds locks and ends other backends."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    s = connection.settings_dict
    conn = psycopg.connect(
        dbname=s["NAME"], user=s["USER"], password=s["PASSWORD"] or None, host=s["HOST"], port=s["PORT"] or None
    )
    yield conn
    conn.rollback()
    # the live server's thread outlives the test and keeps its connection (CONN_MAX_AGE): end it, so that the
    # test database can be dropped; the next request there opens a new one
    mine = connection.connection.info.backend_pid if connection.connection is not None else 0
    conn.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database()"
        " AND pid <> pg_backend_pid() AND pid <> %s",
        [mine],
    )
    conn.close()


def _kill_while_waiting(
    second: psycopg.Connection[Any], account_id: int, send: Callable[[], requests.Response]
) -> requests.Response:
    """Send the request while ``second`` holds the account's row lock; end the server backend that waits."""
    second.execute("SELECT id FROM ledger_account WHERE id = %s FOR UPDATE", [account_id])
    answer: dict[str, requests.Response] = {}
    thread = threading.Thread(target=lambda: answer.setdefault("r", send()))
    thread.start()
    waiting: list[int] = []
    for _ in range(300):  # wait until the server's backend waits for the lock (at most ~30 s)
        second.execute("SELECT pg_stat_clear_snapshot()")  # else the view is frozen for this transaction
        waiting = [
            r[0]
            for r in second.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
                " AND wait_event_type = 'Lock'"
            ).fetchall()
        ]
        if waiting:
            break
        time.sleep(0.1)
    assert len(waiting) == 1, "the request never waited on the lock"
    assert second.execute("SELECT pg_terminate_backend(%s)", [waiting[0]]).fetchone() == (True,)
    second.rollback()  # let go of the lock
    thread.join(30)
    return answer["r"]


LIVE = pytest.mark.django_db(transaction=True, serialized_rollback=True)  # the migrated rows stay (towns…)


@pytest.fixture
def behind_https_proxy(settings):
    """The live server is made once per session with production's HTTPS redirect on (it reads the setting
    when it starts): requests come as through a TLS proxy, which the server trusts (read per request)."""
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    return {"X-Forwarded-Proto": "https"}


@pytest.mark.postgres
@LIVE
def test_api_a_killed_connection_answers_503_and_the_retry_posts_once(
    live_server, second_connection, world, fund, behind_https_proxy
):
    son = world.son
    fund(son.resident, 600)
    secret = token_create(user=son, name="test", scopes=("read", "ledger")).secret
    url = f"{live_server.url}/api/v1/ledger/transfers"
    headers = {"Authorization": f"Bearer {secret}", "Idempotency-Key": "gift-kill-0001", "Accept-Language": "en"}
    headers |= behind_https_proxy
    body = {"recipient_id": world.elder.pk, "minutes": 120}
    assert requests.get(f"{live_server.url}/api/v1/me", headers=headers, timeout=30).status_code == 200  # warm

    def send() -> requests.Response:
        return requests.post(url, json=body, headers=headers, timeout=60)

    first = _kill_while_waiting(second_connection, ledger.account_for(son.resident).pk, send)
    assert first.status_code == 503, first.text
    assert first.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert first.json()["code"] == "service_unavailable" and "try again in" in first.json()["message"]
    assert not Transfer.objects.filter(kind=Transfer.Kind.FAMILY_TRANSFER).exists()  # nothing written
    retry = send()
    assert retry.status_code == 201, retry.text
    again = send()
    assert again.status_code == 200 and again.json()["id"] == retry.json()["id"]
    assert Transfer.objects.filter(kind=Transfer.Kind.FAMILY_TRANSFER).count() == 1
    assert ledger.account_for(son.resident).posted_balance == 600 - 120


@pytest.mark.postgres
@LIVE
def test_page_a_killed_connection_answers_503_in_chinese_and_the_retry_posts_once(
    live_server, second_connection, world, fund, behind_https_proxy
):
    me = world.vol.resident
    fund(me, 240)
    client = Client()
    client.force_login(world.vol)
    session = requests.Session()
    session.cookies.set("sessionid", client.cookies["sessionid"].value)
    csrf = "k" * 32
    session.cookies.set("csrftoken", csrf)
    url = f"{live_server.url}/volunteer/give/"
    # over HTTPS, Django's CSRF check also wants the page the form came from
    session.headers.update(behind_https_proxy | {"Referer": url.replace("http://", "https://", 1)})
    data = {"idem": "web-kill-donate-1", "to": "pool", "amount": "2", "step": "confirm"}
    assert session.get(url, timeout=30).status_code == 200  # warm: the server's connection is open

    def send() -> requests.Response:
        return session.post(url, data=data, headers={"X-CSRFToken": csrf}, allow_redirects=False, timeout=60)

    first = _kill_while_waiting(second_connection, ledger.account_for(me).pk, send)
    assert first.status_code == 503, first.text[:500]
    assert first.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert "时间银行暂时连不上" in first.text and "再试一次" in first.text
    assert 'http-equiv="refresh"' not in first.text  # a form is not sent again behind the user's back
    assert not Transfer.objects.filter(kind=Transfer.Kind.DONATION).exists()
    retry = send()
    assert retry.status_code == 302, retry.text[:500]
    assert send().status_code == 302  # the same form once more: still one donation
    assert Transfer.objects.filter(kind=Transfer.Kind.DONATION).count() == 1
    assert ledger.account_for(me).posted_balance == 240 - 120
