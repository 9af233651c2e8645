"""The export: by period and region, within the reader's area, as xlsx and CSV."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest
from django.utils import timezone

from timebank.common.errors import NotAllowed
from timebank.exchange.layout import SERVICES, VOLUNTEERS, own_number_pk, visit_record_no, volunteer_number_for_pk
from timebank.exchange.selectors import Period, service_rows, volunteer_rows
from timebank.exchange.services import export_volunteer_records
from timebank.people.models import PersonalDataView

from .conftest import read_csv, read_xlsx


@pytest.fixture
def two(world, paid):
    first = paid(rate=5)
    second = paid(dispute=True, day=3, volunteer=world.vol2)
    return first, second


def test_service_rows_hold_the_record(world, two, supervisor):
    first, second = two
    rows = {r["record_no"]: r for r in service_rows(supervisor)}
    a = rows[visit_record_no(first.pk)]
    assert a["volunteer_no"] == volunteer_number_for_pk(world.vol.resident_id)
    assert a["item_code"] == "chat" and a["actual_minutes"] == 60 and a["credited_minutes"] == first.credited_minutes
    assert a["rating"] == 5 and a["complaint"] == "否"
    assert a["start"] == timezone.localtime(first.check_in_at).replace(second=0, microsecond=0)
    b = rows[visit_record_no(second.pk)]
    assert b["complaint"] == "是" and "迟到了半小时" in b["complaint_note"] and b["credited_minutes"] == 30


def test_period_and_region_filters(world, two, supervisor, other_community):
    first_day = timezone.localtime(world.start).date()
    only_first = service_rows(supervisor, period=Period(first_day, first_day + dt.timedelta(days=1)))
    assert [r["record_no"] for r in only_first] == [visit_record_no(two[0].pk)]
    assert service_rows(supervisor, region=other_community) == []
    assert volunteer_rows(supervisor, region=other_community) == []


def test_scoped_to_the_readers_area(world, two, other_town_admin, town_admin, partner=None):
    assert service_rows(other_town_admin) == []
    assert volunteer_rows(other_town_admin) == []
    assert len(service_rows(town_admin)) == 2


def test_residents_cannot_export(world, two):
    with pytest.raises(NotAllowed):
        service_rows(world.vol)


def test_volunteer_rows_summarise_and_audit_id_numbers(world, two, supervisor):
    before = PersonalDataView.objects.count()
    rows = {r["name"]: r for r in volunteer_rows(supervisor)}
    row = rows["黄嘉欣"]
    assert row["id_number"] == world.vol.resident.id_number and row["id_type"] == "居民身份证"
    assert row["sex"] == "女" and row["services"] == 1 and row["avg_rating"] == 5
    assert rows["陈大文"]["complaints"] == 1
    assert PersonalDataView.objects.count() == before + len(rows)


def test_phones_follow_the_id_rule_full_only_for_who_manages_the_person(world, two, supervisor, partner_admin):
    """A partner organisation may export its volunteers' records, with ID numbers and phones masked."""
    vol = world.vol.resident
    assert vol.phone
    full = {r["name"]: r for r in volunteer_rows(supervisor)}["黄嘉欣"]
    assert full["phone"] == vol.phone
    before = PersonalDataView.objects.count()
    masked = {r["name"]: r for r in volunteer_rows(partner_admin)}["黄嘉欣"]
    assert masked["phone"] == vol.phone_masked and vol.phone not in str(masked)
    assert masked["id_number"] == vol.id_number_masked
    assert PersonalDataView.objects.count() == before  # nothing shown in full, nothing recorded


def test_awards_are_the_star_level_and_honours_and_nothing_while_barred(world, two, supervisor):
    from timebank.common.services import policy_set
    from timebank.rewards import services as rewards

    first, _second = two
    policy_set(
        actor=None, key="rewards.star_thresholds_hours", value=[1, 2, 3, 4, 5], effective_from=timezone.localdate()
    )
    vol = world.vol.resident
    rewards.honour_grant(
        actor=supervisor,
        kind="excellent_volunteer",
        title="优秀志愿者",
        year=2025,
        citation="常年陪伴独居老人",
        person=vol,
    )
    gone = rewards.honour_grant(
        actor=supervisor, kind="award", title="服务之星", year=2026, citation="误发", person=vol
    )
    rewards.honour_withdraw(actor=supervisor, honour=gone, reason="误发")
    town = vol.home_region.parent.name if vol.home_region.parent else vol.home_region.name
    row = {r["name"]: r for r in volunteer_rows(supervisor, audit=False)}["黄嘉欣"]
    assert row["awards"] == f"1星级志愿者；2025年 优秀志愿者（{town}）"
    rewards.falsification_record(actor=supervisor, visit=first, reason="服务记录造假")
    row = {r["name"]: r for r in volunteer_rows(supervisor, audit=False)}["黄嘉欣"]
    assert row["awards"] == ""


def test_xlsx_has_both_sheets_with_chinese_headers(world, two, supervisor):
    out = export_volunteer_records(actor=supervisor, fmt="xlsx")
    sheets = read_xlsx(out.content)
    assert sheets["志愿者"][0] == VOLUNTEERS.headers and sheets["服务记录"][0] == SERVICES.headers
    assert len(sheets["服务记录"]) == 3
    id_col = VOLUNTEERS.keys.index("id_number")
    assert all(isinstance(r[id_col], str) and len(r[id_col]) == 18 for r in sheets["志愿者"][1:])


def test_csv_one_table_or_a_zip(world, two, supervisor):
    out = export_volunteer_records(actor=supervisor, fmt="csv", table="services")
    assert out.content.startswith(b"\xef\xbb\xbf") and out.filename.endswith(".csv")
    rows = read_csv(out.content)
    assert rows[0] == SERVICES.headers and len(rows) == 3
    both = export_volunteer_records(actor=supervisor, fmt="csv")
    names = zipfile.ZipFile(io.BytesIO(both.content)).namelist()
    assert sorted(names) == ["services.csv", "volunteers.csv"]


def test_volunteer_number_is_checked():
    number = volunteer_number_for_pk(4213)
    assert own_number_pk(number) == 4213
    assert own_number_pk(number[:-1] + ("0" if number[-1] != "0" else "1")) is None
    assert own_number_pk("OTHER0000004213X") is None
