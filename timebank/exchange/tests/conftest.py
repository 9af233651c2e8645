"""Exchange test fixtures: the care world (re-used), a few paid visits, and file helpers."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from typing import Any

import pytest
from openpyxl import load_workbook  # type: ignore[import-untyped]

from timebank.api.tests.conftest import _api_settings, api, token  # noqa: F401 - fixtures
from timebank.care import services as care
from timebank.care.models import Visit
from timebank.care.tests.conftest import (  # noqa: F401 - fixtures re-used
    assigned,
    checked_out,
    fund,
    login,
    person,
    publish,
    world,
)
from timebank.exchange.models import ImportRun, ServiceRecord, VolunteerNumber
from timebank.ledger.models import Batch, Transfer
from timebank.people.models import PersonalDataView, Resident


def counts() -> dict[str, int]:
    models = (Resident, VolunteerNumber, ServiceRecord, ImportRun, Transfer, Batch)
    return {m.__name__: m.objects.count() for m in models}


def read_xlsx(data: bytes) -> dict[str, list[list[Any]]]:
    wb = load_workbook(io.BytesIO(data))
    return {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets}


def read_csv(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def make_csv(rows: list[list[Any]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode("utf-8-sig")


@pytest.fixture
def paid(world, checked_out) -> Callable[..., Visit]:  # noqa: F811 - fixtures
    """A confirmed visit (``rate=5``: rated by the son; ``dispute=True``: disputed, then paid in part)."""

    def make(*, rate: int | None = None, dispute: bool = False, day: int = 0, **kw: Any) -> Visit:
        visit = checked_out(start=world.start + dt.timedelta(days=day), **kw)
        if dispute:
            d = care.visit_dispute(actor=world.son, visit=visit, complaint="迟到了半小时")
            care.dispute_resolve(actor=world.worker, dispute=d, outcome="part", reason="核实后按实际时间", minutes=30)
        else:
            care.visit_confirm(actor=world.son, visit=visit)
        if rate:
            care.visit_rate(actor=world.son, visit=Visit.objects.get(pk=visit.pk), stars=rate)
        return Visit.objects.get(pk=visit.pk)

    return make


__all__ = ["PersonalDataView", "counts", "make_csv", "read_csv", "read_xlsx"]
