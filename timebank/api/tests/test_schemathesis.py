"""schemathesis against the live OpenAPI schema: no input gives a 500, no response breaks the schema.

The schema is loaded from the Django WSGI app (``/api/v1/openapi.json``); every operation is called with
schema-valid (positive) and schema-violating (negative) data, ``EXAMPLES`` each, derandomized so CI runs
the same cases every time, with the token of a social worker holding every scope. All of schemathesis's
checks run except ``positive_data_acceptance``: schema-valid data may still be refused by a domain rule
(a window in the past, an unknown item), which is a documented 4xx, not a schema violation.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import CHECKS
from schemathesis.generation import GenerationMode

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """Calls go straight to the WSGI app: keep Django from closing the test's database connection after
    each request (what Django's test client does too), or the test transaction would be lost."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


EXAMPLES = 20


def _checks() -> list[Any]:
    return [c for c in CHECKS.get_all() if c.__name__ != "positive_data_acceptance"]


def _has_inputs(operation: Any) -> bool:
    definition = operation.definition.raw
    return bool(definition.get("parameters") or definition.get("requestBody"))


def test_every_operation_against_the_schema(token, world, publish, checked_out, fund):
    publish()
    checked_out()
    fund(world.son.resident, 300)
    secret = token(world.worker)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())
    headers = {"Authorization": f"Bearer {secret}", "Accept-Language": "en"}
    checks = _checks()
    failures: list[str] = []
    ran = 0
    ops = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        ops += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            calls: list[int] = []

            @settings(
                max_examples=EXAMPLES,
                derandomize=True,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy(generation_mode=mode))
            def run(case: Any) -> None:
                calls.append(1)
                case.call_and_validate(headers=headers, checks=checks)

            try:
                run()
            except Unsatisfiable:
                # An operation without parameters or body (e.g. /health) has no invalid input to make.
                if mode is not GenerationMode.NEGATIVE or _has_inputs(operation):
                    failures.append(f"{operation.label} [{mode.value}]: no input could be generated")
            except BaseException as exc:  # schemathesis raises failure groups: collect all, report them all
                if isinstance(exc, KeyboardInterrupt | SystemExit):
                    raise
                failures.append(f"{operation.label} [{mode.value}]: {str(exc)[:1500]}")
            ran += len(calls)
    print(f"schemathesis: {ops} operations, {ran} calls, checks: {[c.__name__ for c in checks]}")
    assert ran > 0
    assert not failures, "\n\n".join(failures)
