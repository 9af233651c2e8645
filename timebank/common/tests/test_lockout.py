"""Login lock-out by phone number and by address (timebank.common.lockout, django-axes).

Before: only the phone number was counted, so one password tried against many phone numbers from one
address was never slowed. Now an address is locked after ``AXES_ADDRESS_FAILURE_LIMIT`` failures whatever
the numbers, while a phone number is still locked after ``AXES_FAILURE_LIMIT``.
"""

from __future__ import annotations

import pytest
from django.test import Client, RequestFactory

from timebank.common.lockout import client_ip
from timebank.conftest import PASSWORD
from timebank.people import services

pytestmark = pytest.mark.django_db

LOGIN = "/login/"


@pytest.fixture
def account(make_resident):
    r = make_resident(name="李志愿", age=30, roles=["volunteer"], phone="13800138000")
    return services.login_create(actor=None, resident=r, password=PASSWORD)


def _try(client: Client, phone: str, password: str = "Summer-2026") -> int:
    return client.post(LOGIN, {"username": phone, "password": password}).status_code


def test_one_password_against_many_phones_locks_the_address(account, settings):
    settings.AXES_ADDRESS_FAILURE_LIMIT = 8
    attacker = Client(REMOTE_ADDR="203.0.113.10")
    for i in range(7):  # different numbers, one failure each: no number reaches its own limit
        assert _try(attacker, f"1390000{i:04d}") == 400
    assert _try(attacker, "13900009999") == 429  # the 8th failure from this address locks it
    locked = attacker.post(LOGIN, {"username": "13800138000", "password": PASSWORD})
    assert locked.status_code == 429 and "_auth_user_id" not in attacker.session
    # the account owner at another address is not locked out
    owner = Client(REMOTE_ADDR="198.51.100.20")
    assert owner.post(LOGIN, {"username": "13800138000", "password": PASSWORD}).status_code == 302


def test_a_station_with_a_few_mistakes_is_not_locked(account, settings):
    """Many people behind one address: a handful of typing mistakes must not lock the station."""
    station = Client(REMOTE_ADDR="203.0.113.11")
    for i in range(4):
        assert _try(station, f"1390000{i:04d}") == 400
    assert station.post(LOGIN, {"username": "13800138000", "password": PASSWORD}).status_code == 302


def test_the_phone_limit_still_holds_across_addresses(account, settings):
    for i in range(5):  # five addresses, one phone number
        assert _try(Client(REMOTE_ADDR=f"203.0.113.{20 + i}"), "13800138000") in (400, 429)
    fresh = Client(REMOTE_ADDR="203.0.113.99")
    assert fresh.post(LOGIN, {"username": "13800138000", "password": PASSWORD}).status_code == 429


def test_client_ip_trusts_forwarded_for_only_behind_configured_proxies(settings):
    rf = RequestFactory()
    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.5")
    assert client_ip(request) == "10.0.0.2"
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request) == "203.0.113.5"  # the address our proxy saw, not what the client claimed
    settings.TRUSTED_PROXY_COUNT = 3  # fewer hops than proxies: the header is not trusted
    assert client_ip(request) == "10.0.0.2"
    assert client_ip(rf.get("/", REMOTE_ADDR="not an address")) is None
