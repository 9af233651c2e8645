"""Imports: the round trip, idempotent re-imports, and dry runs that report every bad row and write nothing."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone
from openpyxl import Workbook  # type: ignore[import-untyped]

from timebank.exchange.layout import SERVICES, VOLUNTEERS, volunteer_number_for_pk
from timebank.exchange.models import ServiceRecord, VolunteerNumber
from timebank.exchange.services import export_volunteer_records, import_service_records, import_volunteers
from timebank.people import idnumber
from timebank.people.models import Resident
from timebank.people.tests.factories import birth_date_for_age, next_seq
from timebank.rewards.selectors import service_minutes

from .conftest import counts, make_csv, read_csv, read_xlsx


class Rollback(Exception):
    pass


def _rows(sheet: list[list[Any]]) -> list[dict[str, Any]]:
    header, *rest = sheet
    return [dict(zip(header, r, strict=True)) for r in rest]


def _export(actor: Any, fmt: str) -> tuple[bytes, bytes]:
    """(the volunteers file, the services file): one workbook for both, or two CSV files."""
    if fmt == "xlsx":
        book = export_volunteer_records(actor=actor, fmt="xlsx").content
        return book, book
    people = export_volunteer_records(actor=actor, fmt="csv", table="volunteers").content
    return people, export_volunteer_records(actor=actor, fmt="csv", table="services").content


def _tables(people: bytes, services: bytes, fmt: str) -> tuple[list[list[Any]], list[list[Any]]]:
    if fmt == "xlsx":
        sheets = read_xlsx(people)
        return sheets["志愿者"], sheets["服务记录"]
    return read_csv(people), read_csv(services)


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_round_trip_reproduces_the_same_records(world, paid, person, login, supervisor, settings, fmt):
    """System A records visits and exports; the records vanish (a second, empty system); B imports the
    file and exports again: the same volunteers and services, cell for cell."""
    try:
        with transaction.atomic():
            newcomer = login(person(name="林晓彤", age=24, sex="F", roles=["volunteer"], phone="13812345678"))
            paid(rate=5)
            paid(dispute=True, day=2, volunteer=world.vol2)
            paid(rate=4, day=4, volunteer=newcomer, item="grocery")
            people, services = _export(supervisor, fmt)
            raise Rollback
    except Rollback:
        pass
    first_people, first_services = _tables(people, services, fmt)
    assert len(first_services) == 4
    assert not Resident.objects.filter(name="林晓彤").exists()

    settings.EXCHANGE_DEPLOYMENT_CODE = "ZSB2"  # the second system
    with time_machine.travel(timezone.now() + dt.timedelta(days=10)):
        dry = import_volunteers(actor=supervisor, file=people, dry_run=True)
        assert dry.ok and not dry.committed and dry.created == 1 and dry.linked == 2
        vols = import_volunteers(actor=supervisor, file=people, dry_run=False, filename="a")
        assert vols.ok and vols.committed, vols.errors
        svc = import_service_records(actor=supervisor, file=services, dry_run=False, filename="a")
        assert svc.ok and svc.committed and svc.created == 3, svc.errors
        second_people, second_services = _tables(*_export(supervisor, fmt), fmt)
    assert second_services == first_services
    assert _rows(second_people) == _rows(first_people)
    newcomer_b = Resident.objects.get(name="林晓彤")
    assert service_minutes(newcomer_b) == ServiceRecord.objects.get(volunteer=newcomer_b).credited_minutes


def test_reimport_changes_nothing(world, paid, supervisor, settings):
    paid(rate=5)
    exported = export_volunteer_records(actor=supervisor, fmt="csv", table="services").content
    people = export_volunteer_records(actor=supervisor, fmt="csv", table="volunteers").content
    before = counts()
    with time_machine.travel(timezone.now() + dt.timedelta(days=1)):
        # into the system that made them: every row is its own record
        assert import_volunteers(actor=supervisor, file=people, dry_run=False).unchanged == 2
        report = import_service_records(actor=supervisor, file=exported, dry_run=False)
    assert report.ok and report.unchanged == 1 and not report.committed
    assert counts() == before


def _services_file(vol: Resident, *rows: dict[str, Any]) -> bytes:
    base = {
        "origin": "OLD",
        "volunteer_no": volunteer_number_for_pk(vol.pk),
        "volunteer_name": vol.name,
        "item_code": "chat",
        "item_name": "",
        "community_code": vol.home_region.code,
        "start": "2025-03-01 09:00",
        "end": "2025-03-01 10:00",
        "actual_minutes": 60,
        "service_hours": "1.00",
        "credited_minutes": 60,
        "rating": 5,
        "complaint": "否",
        "complaint_note": "",
    }
    lines = [SERVICES.headers] + [[({**base, **r}).get(k, "") for k in SERVICES.keys] for r in rows]
    return make_csv(lines)


def test_services_import_commits_then_is_a_no_op(world, supervisor):
    vol = world.vol.resident
    data = _services_file(
        vol,
        {"record_no": "OLD-0001"},
        {
            "record_no": "OLD-0002",
            "start": "2025-03-02 09:00",
            "end": "2025-03-02 11:00",
            "actual_minutes": 120,
            "credited_minutes": 120,
        },
    )
    report = import_service_records(actor=supervisor, file=data, dry_run=False)
    assert report.committed and report.created == 2
    assert service_minutes(vol) == 180
    before = counts()
    again = import_service_records(actor=supervisor, file=data, dry_run=False)
    assert again.ok and again.unchanged == 2 and not again.committed
    assert counts() == before


def test_services_dry_run_reports_every_bad_row(world, supervisor, town_admin, other_community, make_resident):
    vol = world.vol.resident
    outsider = make_resident(name="外区人", age=30, roles=["volunteer"], home_region=other_community)
    data = _services_file(
        vol,
        {"record_no": "OLD-0001"},  # row 2: fine
        {"record_no": "OLD-0002", "item_code": "juggling"},  # 3: unknown item
        {"record_no": "OLD-0003", "start": "2025-13-01 09:00"},  # 4: bad date
        {"record_no": "OLD-0001", "start": "2025-03-05 09:00", "end": "2025-03-05 10:00"},  # 5: duplicate number
        {"record_no": "OLD-0005", "volunteer_no": "NOSUCH0001"},  # 6: unknown volunteer
        {
            "record_no": "OLD-0006",
            "volunteer_no": volunteer_number_for_pk(outsider.pk),
            "volunteer_name": "外区人",
        },  # 7
        {"record_no": "OLD-0007", "start": "2025-03-06 10:00", "end": "2025-03-06 09:00"},  # 8: end before start
        {"record_no": "OLD-0008", "start": "2025-03-07 09:00", "end": "2025-03-07 10:00", "rating": 9},  # 9: rating
        {"record_no": "OLD-0009", "start": "2025-03-01 09:00"},  # 10: same as row 2
        {"record_no": "OLD-0010", "start": "2099-01-01 09:00", "end": "2099-01-01 10:00"},  # 11: future
    )
    before = counts()
    report = import_service_records(actor=town_admin, file=data, dry_run=True)
    got = {(e.row, e.key) for e in report.errors}
    assert got == {
        (3, "item_code"),
        (4, "start"),
        (5, "record_no"),
        (6, "volunteer_no"),
        (7, "volunteer_no"),
        (8, "end"),
        (9, "rating"),
        (10, "start"),
        (11, "end"),
    }, report.errors
    assert all(e.reason and e.column for e in report.errors)
    assert counts() == before
    committed = import_service_records(actor=town_admin, file=data, dry_run=False)
    assert not committed.committed and committed.errors == report.errors
    assert counts() == before


def _volunteers_file(*rows: dict[str, Any]) -> bytes:
    lines = [VOLUNTEERS.headers] + [[r.get(k, "") for k in VOLUNTEERS.keys] for r in rows]
    return make_csv(lines)


def _new_person(**kw: Any) -> dict[str, Any]:
    number = idnumber.make("442000", birth_date_for_age(40), next_seq() % 1000)
    return {
        "volunteer_no": f"GD{next_seq():08d}",
        "name": "新志愿者",
        "id_type": "居民身份证",
        "id_number": number,
        "community_code": "442000001001",
        **kw,
    }


def test_volunteers_dry_run_reports_every_bad_row(world, town_admin, other_community):
    good = _new_person()
    bad_checksum = _new_person()
    bad_checksum["id_number"] = bad_checksum["id_number"][:-1] + ("0" if bad_checksum["id_number"][-1] != "0" else "1")
    rows = [
        good,  # 2
        bad_checksum,  # 3
        _new_person(birth_date="1990-02-30"),  # 4: bad date
        _new_person(community_code=other_community.code),  # 5: outside the area
        {**good, "volunteer_no": "GD-OTHER-1"},  # 6: duplicate person
        _new_person(id_type="护照"),  # 7
        _new_person(sex="男" if True else "", id_number=idnumber.make("442000", birth_date_for_age(40), 2)),  # 8: sex
        _new_person(name=""),  # 9
    ]
    before = counts()
    report = import_volunteers(actor=town_admin, file=_volunteers_file(*rows), dry_run=True)
    got = {(e.row, e.key) for e in report.errors}
    assert got == {
        (3, "id_number"),
        (4, "birth_date"),
        (5, "community_code"),
        (6, "id_number"),
        (7, "id_type"),
        (8, "sex"),
        (9, "name"),
    }, report.errors
    assert counts() == before
    assert import_volunteers(actor=town_admin, file=_volunteers_file(*rows), dry_run=False).committed is False
    assert counts() == before


def test_volunteers_commit_then_no_op(world, town_admin):
    rows = [_new_person(phone="13912345678"), _new_person(name="第二位")]
    data = _volunteers_file(*rows)
    report = import_volunteers(actor=town_admin, file=data, dry_run=False)
    assert report.committed and report.created == 2
    r = Resident.objects.get(name="第二位")
    assert r.is_volunteer and VolunteerNumber.objects.get(resident=r).number == rows[1]["volunteer_no"]
    before = counts()
    again = import_volunteers(actor=town_admin, file=data, dry_run=False)
    assert again.ok and again.unchanged == 2 and not again.committed
    assert counts() == before


def test_wrong_headers_are_reported(world, supervisor):
    data = make_csv([["志愿者编号", "姓名", "身份证"], ["GD1", "张三", "x"]])
    report = import_volunteers(actor=supervisor, file=data, dry_run=True)
    keys = {(e.row, e.key or e.column) for e in report.errors}
    assert (1, "身份证") in keys and (1, "id_number") in keys and (1, "community_code") in keys
    assert all(e.row == 1 for e in report.errors)


def _xlsx(rows: list[list[Any]], merge: str | None = None) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "志愿者"
    for row in rows:
        ws.append(row)
    if merge:
        ws.merge_cells(merge)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_merged_cells_and_numeric_id_numbers_are_reported(world, supervisor):
    a, b = _new_person(), _new_person()
    rows = [VOLUNTEERS.headers] + [[r.get(k, "") for k in VOLUNTEERS.keys] for r in (a, b)]
    rows[2][VOLUNTEERS.keys.index("id_number")] = int(b["id_number"][:15])
    before = counts()
    report = import_volunteers(actor=supervisor, file=_xlsx(rows, merge="H2:H3"), dry_run=False)
    assert not report.committed
    merged = [e for e in report.errors if "H2:H3" in e.reason]
    assert {e.row for e in merged} == {2, 3} and merged[0].column == "所属社区代码"
    assert any(e.row == 3 and e.key == "id_number" for e in report.errors)
    assert counts() == before


def test_not_a_spreadsheet(world, supervisor):
    report = import_volunteers(actor=supervisor, file=b"PK\x03\x04 broken zip", dry_run=True)
    assert report.errors and report.errors[0].row == 0
    report = import_volunteers(actor=supervisor, file=b"\xff\xfe\x00\x00garbage", dry_run=True)
    assert report.errors and report.errors[0].row == 0
