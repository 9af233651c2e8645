"""Every form page answers 400 when it refuses what was entered (and shows why), never 200.

A refused entry that answers 200 looks like success to scripts, monitors and the browser's history
(the station's register form did). The tiny demo city is loaded (in the test's transaction); each demo
account walks the pages it can reach from its home page (links within the site, breadth first, at most
``PAGES`` pages), finds every ``<form method="post">`` and posts it back with only its hidden fields (the
step, the double-submit key) and every other field empty. The answer must not be 200 with an error on
the page: a refusal is 400 (or 403/404/409 for a refusal of the action itself); forms that need no
input may carry out their action (302/303).
"""

from __future__ import annotations

import io
import re
from collections import deque
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urldefrag, urljoin, urlparse

import pytest
from django.core.management import call_command
from django.test import Client

from timebank.people.demo import DEMO_ACCOUNTS
from timebank.people.models import User

PAGES = 120
#: Addresses not walked or posted to: leaving, switching language or view mode, static files, the API
#: and the admin (they have their own tests), downloads.
SKIP = re.compile(r"^/(logout|i18n|static|api|admin|media)/|\.(pdf|xlsx|csv|png|svg|js|css)$|/export|/download")


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.forms: list[tuple[str, dict[str, str]]] = []  # (action, hidden fields)
        self._in_post_form = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.links.append(str(a["href"]))
        if tag == "form":
            self._in_post_form = (a.get("method") or "get").lower() == "post"
            if self._in_post_form:
                self.forms.append((str(a.get("action") or ""), {}))
        hidden = tag == "input" and (a.get("type") or "") == "hidden"
        if hidden and self._in_post_form and a.get("name") not in (None, "", "csrfmiddlewaretoken"):
            self.forms[-1][1][str(a["name"])] = str(a.get("value") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._in_post_form = False


def _refused_on_the_page(html: str) -> bool:
    return 'role="alert"' in html or 'class="errorlist' in html


def _walk(client: Client) -> dict[str, tuple[str, dict[str, str]]]:
    """{form action: (page it was found on, its hidden fields)} for the pages reachable from home."""
    seen: set[str] = set()
    forms: dict[str, tuple[str, dict[str, str]]] = {}
    todo = deque(["/"])
    while todo and len(seen) < PAGES:
        url = todo.popleft()
        if url in seen:
            continue
        seen.add(url)
        r = client.get(url)
        if r.status_code != 200 or not r.get("Content-Type", "").startswith("text/html"):
            continue
        page = _Page()
        page.feed(r.content.decode())
        for action, hidden in page.forms:
            target = urljoin(url, action or url)
            if not SKIP.search(urlparse(target).path):
                forms.setdefault(f"{target} {sorted(hidden.items())}", (url, hidden))
        for href in page.links:
            target, _frag = urldefrag(urljoin(url, href))
            parsed = urlparse(target)
            if parsed.netloc or SKIP.search(parsed.path) or target in seen:
                continue
            todo.append(target)
    return forms


@pytest.mark.django_db
def test_every_form_refuses_an_empty_entry_with_400(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("seed_demo", scale="tiny", seed=7, stdout=io.StringIO())
    wrong = []
    posted = 0
    for account in DEMO_ACCOUNTS:
        client = Client()
        client.force_login(User.objects.get(username=account.phone))
        forms = _walk(client)
        assert forms, f"{account.key} found no form"
        for key, (found_on, hidden) in sorted(forms.items()):
            action = key.split(" ", 1)[0]
            r = client.post(action, hidden)
            posted += 1
            html = r.content.decode(errors="replace") if r.status_code == 200 else ""
            if r.status_code == 200 and _refused_on_the_page(html):
                wrong.append(f"{account.key}: {action} {hidden} (form on {found_on}): 200 with an error shown")
            elif r.status_code >= 500:
                wrong.append(f"{account.key}: {action} {hidden} (form on {found_on}): {r.status_code}")
        print(f"{account.key}: {len(forms)} forms posted with only their hidden fields")
    assert posted > 100
    assert not wrong, "\n".join(wrong)


@pytest.mark.django_db
def test_a_refused_login_is_400(client: Client) -> None:
    assert client.post("/login/", {}).status_code == 400
    assert client.post("/login/", {"username": "13800138000", "password": "wrong"}).status_code == 400


@pytest.mark.django_db
def test_the_station_register_form_answers_400_on_a_refused_entry(client: Client, social_worker: User) -> None:
    """The defect this file was written for: the register form answered 200 when it refused the entry."""
    from timebank.people.models import Resident

    client.force_login(social_worker)
    r = client.post("/station/residents/new/", {"name": "王\u202e秀英", "idem": "web-0123456789abcdef"})
    assert r.status_code == 400
    assert 'role="alert"' in r.content.decode()
    assert not Resident.objects.exists()
