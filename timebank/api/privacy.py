"""My data (PIPL, docs/privacy.md): a copy of everything held about the caller, and their correction requests.

Only about the caller's own resident record; a login that is not a resident's gets 404. The same services and
selectors as the 我的信息 page.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from timebank.common.errors import NotFound
from timebank.people import privacy as people_privacy
from timebank.people.models import CorrectionRequest, Resident
from timebank.people.privacy_selectors import correction_requests_of
from timebank.privacy.selectors import data_held_json

from .auth import auth_for, caller
from .common import In, responses

router = Router(tags=["me"])


class MyDataOut(Schema):
    format: str = Field(..., examples=["timebank.my-data/1"])
    generated_at: str
    resident_id: int
    left_on: str | None = None
    sections: dict[str, list[dict[str, Any]]]


class CorrectionIn(In):
    field: Literal["name", "phone", "address", "languages", "other"]
    new_value: str = Field("", max_length=200)
    reason: str = Field(..., max_length=500)


class CorrectionOut(Schema):
    id: int
    field: str
    new_value: str
    reason: str
    status: str
    created_at: dt.datetime
    decided_at: dt.datetime | None = None
    decision_note: str


def _own(request: HttpRequest) -> Resident:
    resident = caller(request).resident
    if resident is None:
        raise NotFound()
    return resident


@router.get("/data", response=responses(MyDataOut), auth=auth_for("read"), summary="Everything held about me")
def my_data(request: HttpRequest) -> dict[str, Any]:
    return data_held_json(_own(request))


@router.get(
    "/corrections", response=responses(list[CorrectionOut]), auth=auth_for("read"), summary="My correction requests"
)
def my_corrections(request: HttpRequest) -> list[CorrectionRequest]:
    return list(correction_requests_of(_own(request))[:100])


@router.post(
    "/corrections", response=responses(CorrectionOut, 201), auth=auth_for("write"), summary="Ask for a correction"
)
def my_correction_create(request: HttpRequest, payload: CorrectionIn) -> Status[CorrectionRequest]:
    resident = _own(request)
    created = people_privacy.correction_request_create(
        actor=caller(request),
        resident=resident,
        field=payload.field,
        new_value=payload.new_value,
        reason=payload.reason,
    )
    return Status(201, created)
