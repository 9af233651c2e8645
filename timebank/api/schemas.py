"""Response (and shared) schemas. Request bodies live next to their routers; all inherit ``common.In``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from ninja import Field, Schema

from timebank.care.models import Item, Need, Visit
from timebank.people.models import Resident
from timebank.people.selectors import age_on
from timebank.training.models import Certificate


class RoleOut(Schema):
    role: str = Field(..., examples=["social_worker"])
    region: str = Field(..., examples=["442000001001"])
    region_name: str = Field(..., examples=["莲峰社区"])


class MeOut(Schema):
    user_id: int
    username: str
    resident_id: int | None
    roles: list[RoleOut]
    scopes: list[str] = Field(..., examples=[["read", "write"]])
    via: str = Field(..., examples=["token"])
    token_prefix: str | None = Field(None, description="The calling token's prefix (null for the session).")
    token_expires_at: dt.datetime | None = Field(
        None,
        description="When the calling token stops working (null: never, or the session).",
        examples=["2027-03-01T00:00:00+08:00"],
    )


class RegionRef(Schema):
    code: str = Field(..., examples=["442000001001"])
    name: str = Field(..., examples=["莲峰社区"])


class ResidentOut(Schema):
    id: int
    name: str = Field(..., examples=["何惠珍"])
    id_number_masked: str = Field(..., examples=["4420**********123X"])
    sex: str = Field(..., examples=["F"])
    age: int = Field(..., examples=[82])
    home_region: RegionRef
    languages: list[str] = Field(..., examples=[["yue"]])
    is_elder: bool
    is_volunteer: bool
    is_proxy: bool
    lives_alone: bool
    disability: str = Field(..., examples=["none"])
    active: bool

    @staticmethod
    def resolve_age(obj: Resident) -> int:
        return age_on(obj.birth_date, timezone.localdate())

    @staticmethod
    def resolve_home_region(obj: Resident) -> dict[str, str]:
        return {"code": obj.home_region.code, "name": obj.home_region.name}


class EligibilityOut(Schema):
    age: int
    may_serve: bool
    is_priority: bool
    may_redeem: bool
    may_be_elder: bool
    may_be_proxy: bool
    serve_reasons: list[str]
    priority_reasons: list[str]


class ItemOut(Schema):
    code: str = Field(..., examples=["chat"])
    name: str = Field(..., examples=["陪伴聊天"])
    name_en: str = Field(..., examples=["Company and chat"])
    category: str = Field(..., examples=["companionship"])
    category_name: str
    icon: str
    version: int
    coefficient: str = Field(..., description="Hours credited per hour served (a decimal).", examples=["1.00"])
    default_minutes: int = Field(..., examples=[60])
    risk: str = Field(..., examples=["low"])
    required_track: str = Field(..., examples=[""])

    @staticmethod
    def _current(obj: Item) -> Any:
        versions = sorted(obj.versions.all(), key=lambda v: v.number)
        return versions[-1] if versions else None

    @staticmethod
    def resolve_category(obj: Item) -> str:
        return obj.category.code

    @staticmethod
    def resolve_category_name(obj: Item) -> str:
        return obj.category.name

    @staticmethod
    def resolve_version(obj: Item) -> int:
        v = ItemOut._current(obj)
        return v.number if v else 0

    @staticmethod
    def resolve_coefficient(obj: Item) -> str:
        v = ItemOut._current(obj)
        return str(v.coefficient) if v else "0"

    @staticmethod
    def resolve_default_minutes(obj: Item) -> int:
        v = ItemOut._current(obj)
        return v.default_minutes if v else 0

    @staticmethod
    def resolve_risk(obj: Item) -> str:
        v = ItemOut._current(obj)
        return v.risk if v else ""

    @staticmethod
    def resolve_required_track(obj: Item) -> str:
        v = ItemOut._current(obj)
        return v.required_track if v else ""


class NeedOut(Schema):
    id: int
    elder_id: int
    elder_name: str
    item: str = Field(..., examples=["chat"])
    item_name: str
    region: str = Field(..., examples=["442000001001"])
    address: str
    window_start: dt.datetime
    window_end: dt.datetime
    notes: str
    pref_language: str
    pref_gender: str
    payer: str = Field(..., examples=["government"])
    status: str = Field(..., examples=["open"])
    series: str
    created_at: dt.datetime

    @staticmethod
    def resolve_elder_name(obj: Need) -> str:
        return obj.elder.name

    @staticmethod
    def resolve_item(obj: Need) -> str:
        return obj.item.code

    @staticmethod
    def resolve_item_name(obj: Need) -> str:
        return obj.item.name

    @staticmethod
    def resolve_region(obj: Need) -> str:
        return obj.region.code


class ApplicationOut(Schema):
    id: int
    need_id: int
    volunteer_id: int
    status: str = Field(..., examples=["applied"])
    created_at: dt.datetime


class VisitOut(Schema):
    id: int
    need_id: int
    elder_id: int | None = Field(
        ..., description="Null when the caller may see the volunteer but not the elder (e.g. a partner organisation)."
    )
    volunteer_id: int
    volunteer_name: str
    item: str
    status: str = Field(..., examples=["checked_out"])
    window_start: dt.datetime
    window_end: dt.datetime
    check_in_at: dt.datetime | None
    check_in_method: str
    check_out_at: dt.datetime | None
    actual_minutes: int | None
    credited_minutes: int | None
    confirmed_via: str
    confirmed_at: dt.datetime | None
    transfer_id: int | None

    @staticmethod
    def resolve_elder_id(obj: Visit) -> int | None:
        # null when the caller sees the visit through its volunteer only (care.selectors.visits_visible_to)
        return obj.need.elder_id if getattr(obj, "elder_visible", True) else None

    @staticmethod
    def resolve_volunteer_name(obj: Visit) -> str:
        return obj.volunteer.name

    @staticmethod
    def resolve_item(obj: Visit) -> str:
        return obj.need.item.code

    @staticmethod
    def resolve_window_start(obj: Visit) -> dt.datetime:
        return obj.need.window_start

    @staticmethod
    def resolve_window_end(obj: Visit) -> dt.datetime:
        return obj.need.window_end


class RatingOut(Schema):
    id: int
    visit_id: int
    side: str = Field(..., examples=["elder"])
    stars: int = Field(..., examples=[5])
    tags: list[str]
    comment: str
    is_complaint: bool
    created_at: dt.datetime


class DisputeOut(Schema):
    id: int
    visit_id: int
    complaint: str
    opened_at: dt.datetime
    outcome: str = Field(..., examples=["", "post", "part", "void"])
    minutes_paid: int | None
    resolution: str
    resolved_at: dt.datetime | None


class BalanceOut(Schema):
    resident_id: int
    posted_minutes: int = Field(..., examples=[600])
    available_minutes: int = Field(..., examples=[540])
    held_in_minutes: int
    held_out_minutes: int
    available_hours: str = Field(..., examples=["9.0"])


class LineOut(Schema):
    transfer_id: int
    when: dt.datetime
    what: str = Field(..., examples=["服务收入 · 陪伴聊天"])
    who: str
    where: str
    minutes: int = Field(..., description="Signed: + received, − paid out.", examples=[90])
    balance: int = Field(..., description="Minutes after this line.")


class StatementOut(Schema):
    resident_id: int
    period: str = Field(..., examples=["2026-03"])
    opening_minutes: int
    closing_minutes: int
    held_minutes: int
    lines: list[LineOut]


class TransferOut(Schema):
    id: int
    key: str = Field(..., examples=["give-2026-03-01-0001"])
    kind: str = Field(..., examples=["family_transfer"])
    minutes: int
    memo: str
    created_at: dt.datetime
    replayed: bool = Field(False, description="True when this key had already been used for the same request.")


class CertificateOut(Schema):
    id: int
    holder_id: int
    holder_name: str
    track: str = Field(..., examples=["elderly"])
    number: str = Field(..., examples=["ZS-EC-2026-0001"])
    valid_from: dt.date
    valid_until: dt.date
    revoked: bool
    valid_today: bool

    @staticmethod
    def resolve_holder_name(obj: Certificate) -> str:
        return obj.holder.name

    @staticmethod
    def resolve_revoked(obj: Certificate) -> bool:
        return obj.revoked_at is not None

    @staticmethod
    def resolve_valid_today(obj: Certificate) -> bool:
        today = timezone.localdate()
        return obj.revoked_at is None and obj.valid_from <= today <= obj.valid_until


class CountOut(Schema):
    key: str
    count: int


class SummaryOut(Schema):
    area: list[RegionRef] = Field(..., description="The regions the caller looks after (empty: only their own).")
    residents: int
    elders: int
    volunteers: int
    needs_by_status: list[CountOut]
    visits_by_status: list[CountOut]
    minutes_credited_this_month: int
    open_disputes: int
