"""Content-Security-Policy (issue 13, defect 6): every page carries the policy, and no template needs more.

The browser tests (timebank/web/tests/browser) fail on any violation the browser reports on the pages they
open; this file checks the header and reads every template for what the policy forbids, so that a page no
browser test opens cannot slip an inline script or style in.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from csp.middleware import CSPMiddleware
from django.http import HttpResponse
from django.template import engines
from django.test import Client, RequestFactory

ROOT = Path(__file__).resolve().parents[2]  # the timebank package
TEMPLATES = sorted(p for p in ROOT.rglob("templates/**/*.html"))

#: What the policy refuses in a template: a <script> or <style> element without the request's nonce, a
#: style="" attribute, an inline event handler (onclick= …) and a javascript: link.
FORBIDDEN = [
    (
        re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*\bnonce=\"\{\{ request\.csp_nonce \}\}\")[^>]*>", re.I),
        "inline <script>",
    ),
    (re.compile(r"<style(?![^>]*\bnonce=\"\{\{ request\.csp_nonce \}\}\")[^>]*>", re.I), "<style> without nonce"),
    (re.compile(r"\sstyle\s*=\s*[\"']", re.I), 'style="" attribute'),
    (re.compile(r"\son[a-z]+\s*=\s*[\"']", re.I), "inline event handler"),
    (re.compile(r"javascript:", re.I), "javascript: link"),
]


def test_there_are_templates_to_read() -> None:
    assert len(TEMPLATES) > 40


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_template_needs_more_than_the_policy_allows(template: Path) -> None:
    text = template.read_text(encoding="utf-8")
    found = [f"{what}: {m.group(0)[:60]}" for pattern, what in FORBIDDEN for m in pattern.finditer(text)]
    assert not found, found


@pytest.mark.django_db
def test_pages_carry_the_policy_with_a_fresh_nonce(client: Client) -> None:
    first = client.get("/login/")
    policy = first["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if " " in part.strip())
    assert directives["default-src"] == "'self'"
    assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'"
    assert directives["base-uri"] == "'none'" and directives["form-action"] == "'self'"
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
    assert "'unsafe-inline'" not in directives.get("style-src", "")


@pytest.mark.django_db
def test_an_inline_script_carries_the_nonce_of_its_response(client: Client, settings) -> None:

    request = RequestFactory().get("/")
    middleware = CSPMiddleware(lambda r: None)  # type: ignore[arg-type, return-value]
    middleware.process_request(request)
    html = engines["django"].from_string('<script nonce="{{ request.csp_nonce }}">1</script>').render(request=request)
    response = middleware.process_response(request, HttpResponse(html))
    nonce = re.search(r'nonce="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    assert f"'nonce-{nonce}'" in response["Content-Security-Policy"]
