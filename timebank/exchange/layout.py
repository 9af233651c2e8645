"""The column layout of the exchange files: one place, used by the exports, the imports and docs/exchange.md.

Two tables, each one sheet of an xlsx workbook (named by :attr:`Table.sheet`) or one CSV file:

* ``volunteers`` (志愿者): the person (《志愿服务记录与证明出具办法（试行）》 art. 4: personal basic
  information) and, for the period, a summary of their service, evaluations, training and awards;
* ``services`` (服务记录): one row per service: item, place, times, hours, rating, complaint.

Every column has an English key (stable, for programs) and a Chinese header (what the file carries; an
import accepts either). Columns marked ``imported`` are read by the import; the others are written by the
export for the receiving system and ignored (and may be missing) on import.

The volunteer number (志愿者编号)
--------------------------------
The national system identifies a volunteer across systems by a unified volunteer number, not by the ID
number. A resident registered here gets ``<deployment code><10-digit resident id><check character>``,
e.g. ``ZSTB0000004213X``: derived (never stored), stable for the life of the deployment, meaningless
outside it and free of personal data. The check character is ISO 7064 MOD 11-2 over the digits (as in ID
numbers), so a mistyped number is refused. A volunteer imported from another system keeps the number that
system gave (stored in :class:`~timebank.exchange.models.VolunteerNumber`), so records keep one identity
however often they move. The deployment code is the setting ``EXCHANGE_DEPLOYMENT_CODE`` (default ZSTB).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings

ID_TYPE_RESIDENT = "居民身份证"
YES, NO = "是", "否"
SEX = {"M": "男", "F": "女"}
DATE_FORMAT = "%Y-%m-%d"
DATETIME_FORMAT = "%Y-%m-%d %H:%M"
TRACK_SEP = "；"


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    type: str  # text, int, decimal, date, datetime, yesno
    meaning: str
    source: str
    imported: bool = False
    required: bool = False


@dataclass(frozen=True)
class Table:
    key: str
    sheet: str
    columns: tuple[Column, ...]

    @property
    def keys(self) -> list[str]:
        return [c.key for c in self.columns]

    @property
    def headers(self) -> list[str]:
        return [c.header for c in self.columns]

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)


VOLUNTEERS = Table(
    "volunteers",
    "志愿者",
    (
        Column(
            "volunteer_no",
            "志愿者编号",
            "text",
            "Unified volunteer number (see below)",
            "derived or imported",
            True,
            True,
        ),
        Column("name", "姓名", "text", "Name", "Resident.name", True, True),
        Column("id_type", "证件类型", "text", f"ID type; only {ID_TYPE_RESIDENT}", "constant", True, True),
        Column("id_number", "证件号码", "text", "ID number, 18 characters, as text", "Resident.id_number", True, True),
        Column("sex", "性别", "text", "男 or 女; must agree with the ID number", "Resident.sex", True),
        Column(
            "birth_date", "出生日期", "date", "YYYY-MM-DD; must agree with the ID number", "Resident.birth_date", True
        ),
        Column("phone", "联系电话", "text", "Mobile or landline with area code", "Resident.phone", True),
        Column(
            "community_code", "所属社区代码", "text", "Home village/community code", "Resident.home_region", True, True
        ),
        Column("community", "所属社区", "text", "Home village/community name", "Region.name"),
        Column("services", "服务次数", "int", "Services in the period", "services table"),
        Column("actual_minutes", "服务时长（分钟）", "int", "Minutes served in the period", "services table"),
        Column(
            "service_hours", "服务时长（小时）", "decimal", "Hours served in the period, 2 decimals", "services table"
        ),
        Column("credited_minutes", "计入时间（分钟）", "int", "Minutes credited (time-bank hours)", "services table"),
        Column("avg_rating", "平均评价（星）", "decimal", "Average elder rating in the period", "services table"),
        Column("complaints", "投诉次数", "int", "Complaints in the period", "services table"),
        Column("training", "培训经历", "text", "Certificates: track 编号 from~until, separated by ；", "training"),
        Column(
            "awards",
            "表彰奖励",
            "text",
            "Star level (星级志愿者) from recorded service, then honours: 年 title（town）, separated by ；",
            "rewards: star level and honours",
        ),
    ),
)

SERVICES = Table(
    "services",
    "服务记录",
    (
        Column("record_no", "服务记录编号", "text", "Unique record number", "visit or imported record", True, True),
        Column("origin", "来源系统", "text", "Deployment code of the system that recorded it", "setting", True),
        Column("volunteer_no", "志愿者编号", "text", "The volunteer's number", "volunteers table", True, True),
        Column("volunteer_name", "志愿者姓名", "text", "Must match the volunteer number", "Resident.name", True, True),
        Column("item_code", "服务项目代码", "text", "Catalogue item code", "Item.code", True, True),
        Column("item_name", "服务项目", "text", "Catalogue item name", "Item.name"),
        Column(
            "community_code", "服务地点代码", "text", "Village/community where it was given", "Need.region", True, True
        ),
        Column("start", "开始时间", "datetime", "YYYY-MM-DD HH:MM, Beijing time", "Visit.check_in_at", True, True),
        Column("end", "结束时间", "datetime", "YYYY-MM-DD HH:MM, after the start", "Visit.check_out_at", True, True),
        Column("actual_minutes", "服务时长（分钟）", "int", "Minutes served", "Visit.actual_minutes", True, True),
        Column("service_hours", "服务时长（小时）", "decimal", "Hours served, 2 decimals", "actual_minutes / 60"),
        Column(
            "credited_minutes",
            "计入时间（分钟）",
            "int",
            "Minutes credited to the volunteer",
            "Visit.credited_minutes",
            True,
            True,
        ),
        Column("rating", "服务评价（星）", "int", "Elder's rating 1–5, empty if none", "Rating (elder's side)", True),
        Column("complaint", "是否投诉", "yesno", "是 or 否", "Rating.is_complaint or Dispute", True),
        Column("complaint_note", "投诉及处理", "text", "The complaint and how it was decided", "Dispute", True),
    ),
)

TABLES = {t.key: t for t in (VOLUNTEERS, SERVICES)}

_WEIGHTS_CACHE: dict[int, list[int]] = {}
_OWN_NUMBER = re.compile(r"^(\d{10})([\dX])$")
NUMBER_SHAPE = re.compile(r"^[A-Za-z0-9\-_.]{4,40}$")


def deployment_code() -> str:
    return str(getattr(settings, "EXCHANGE_DEPLOYMENT_CODE", "ZSTB"))


def _mod11_2(digits: str) -> str:
    """ISO 7064 MOD 11-2 check character over any number of digits."""
    total = 0
    for ch in digits:
        total = (total + int(ch)) * 2 % 11
    return "0123456789X"[(12 - total) % 11]


def volunteer_number_for_pk(pk: int) -> str:
    digits = f"{pk:010d}"
    return f"{deployment_code()}{digits}{_mod11_2(digits)}"


def own_number_pk(number: str) -> int | None:
    """The resident id behind a number this deployment derived, or None (another system's, or mistyped)."""
    code = deployment_code()
    if not number.startswith(code):
        return None
    found = _OWN_NUMBER.match(number[len(code) :])
    if not found or _mod11_2(found.group(1)) != found.group(2):
        return None
    return int(found.group(1))


def visit_record_no(pk: int) -> str:
    return f"{deployment_code()}-V{pk:010d}"
