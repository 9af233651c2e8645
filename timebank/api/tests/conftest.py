"""API test fixtures: tokens for the care ``world`` (imported from the care tests) and a small client.

``api.get(path, token=..., lang="en")`` calls /api/v1 with ``Authorization: Bearer``; the default language
is English so tests can read messages; one test checks the Chinese default.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from timebank.api.models import ApiToken
from timebank.api.services import token_create
from timebank.care.models import Application, CareEvent, Dispute, Need, Rating, Visit
from timebank.care.tests.conftest import (  # noqa: F401 - fixtures re-used by the API tests
    assigned,
    checked_out,
    fund,
    login,
    person,
    publish,
    world,
)
from timebank.ledger.models import Account, Transfer
from timebank.people.models import Resident, User
from timebank.training.models import Certificate

ALL = ("read", "write", "ledger")


@pytest.fixture(autouse=True)
def _api_settings(settings: Any) -> None:
    """High limits for the tests that are not about limits (their counts live in the test's transaction)."""
    settings.API_RATE_LIMIT = 10_000
    settings.API_RATE_LIMIT_PER_ADDRESS = 100_000


def counts() -> dict[str, int]:
    """Rows of every table an API write may touch: equal before and after a refused request."""
    models = (Resident, Need, Visit, CareEvent, Application, Rating, Dispute, Transfer, Account, Certificate, ApiToken)
    return {m.__name__: m.objects.count() for m in models}


@dataclass
class Api:
    client: Client

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: str | None = None,
        lang: str = "en",
        raw: bytes | str | None = None,
        headers: dict[str, str] | None = None,
        **query: Any,
    ) -> Any:
        h = {"Accept-Language": lang} | (headers or {})
        if token:
            h["Authorization"] = f"Bearer {token}"
        url = "/api/v1" + path
        if method == "get":
            return self.client.get(url, query, headers=h)
        data = raw if raw is not None else json.dumps(body if body is not None else {})
        return getattr(self.client, method)(url, data=data, content_type="application/json", headers=h)

    def get(self, path: str, **kw: Any) -> Any:
        return self.call("get", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.call("post", path, body, **kw)


@pytest.fixture
def api() -> Api:
    return Api(Client())


@pytest.fixture
def token() -> Callable[..., str]:
    """``token(user)`` → a bearer token with every scope; ``token(user, "read")`` → read only."""

    def make(user: User, *scopes: str) -> str:
        return token_create(user=user, name="test", scopes=scopes or ALL).secret

    return make


def assert_error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """The standard error shape, with the status (and code) expected."""
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "field", "details"}, body
    assert isinstance(body["code"], str) and body["code"]
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["details"], list)
    if code is not None:
        assert body["code"] == code, body
    return body


def soon(minutes: int = 30) -> dt.datetime:
    return (timezone.now() + dt.timedelta(minutes=minutes)).replace(second=0, microsecond=0)
