"""Fixtures: a volunteer with recorded service in the ledger, a login, and a local HTTP receiver."""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from timebank.conftest import PASSWORD
from timebank.ledger import services as ledger
from timebank.people.models import Resident, User
from timebank.people.services import login_create
from timebank.people.tests.factories import next_seq

_keys = itertools.count(1)


@pytest.fixture
def credit() -> Callable[..., None]:
    def pay(volunteer: Resident, minutes: int, memo: str = "助餐") -> None:
        ledger.service_credit(
            key=f"cert-test-{next(_keys)}-{next_seq()}",
            volunteer=volunteer,
            payer="government",
            elder=None,
            minutes=minutes,
            memo=memo,
        )

    return pay


@pytest.fixture
def login() -> Callable[[Resident], User]:
    def make(resident: Resident) -> User:
        if not resident.phone:
            resident.phone = f"+86136{next_seq():08d}"
            resident.save(update_fields=["phone"])
        return login_create(actor=None, resident=resident, password=PASSWORD)

    return make


@pytest.fixture
def volunteer(make_resident: Callable[..., Resident]) -> Resident:
    return make_resident(name="黄嘉欣", age=27, roles=["volunteer"])


@pytest.fixture
def vol_user(volunteer: Resident, login: Callable[[Resident], User]) -> User:
    return login(volunteer)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    url: str
    received: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)  # responses to give in turn; then 200


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A real HTTP server on 127.0.0.1 in a thread, recording every request it gets."""
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            state.received.append(Received(self.path, dict(self.headers.items()), body))
            status = state.statuses.pop(0) if state.statuses else 200
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def committed(django_capture_on_commit_callbacks: Any) -> Callable[..., Any]:
    """``committed(fn, *args, **kw)``: call fn and then run what it left for ``transaction.on_commit``, as
    if the test's transaction had committed (the ledger is append-only, so tests cannot truncate it)."""

    def run(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

    return run
