"""Export files and imports of volunteers and past service records.

An import reads the whole file, checks every row and reports each problem as (row, column, reason). It
runs the real services (people.services.resident_register, ledger.services.batch_post) inside one
transaction and keeps the result only when it is a commit (``dry_run=False``) and no row is bad: all or
nothing. So a dry run reports exactly what a commit would refuse, and writes nothing.

Idempotence: a volunteer is known by ID number and volunteer number, a service by its record number, so a
row already present is "unchanged"; a file whose rows are all unchanged writes nothing (no run, no batch).
The ledger batch of a services import is keyed by the file's SHA-256 and each transfer by the row, so even
a repeated commit of the same file could not post twice.

Why past services are not visits: a visit is the life of a need (an elder here asked, a volunteer was
assigned, checked in, confirmed). A past record from another system has none of that; faking needs would
show in dispatch, matching and the elder's pages. So each becomes an :class:`ServiceRecord` with its hours
credited from the issuance account through the ledger's batch path (kind ``service_credit``, so star levels
and certificates count them), and the export lists visits and imported records alike.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from typing import IO, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from timebank.care.models import Item, Visit
from timebank.common.errors import DomainError, NotAllowed
from timebank.ledger import services as ledger
from timebank.ledger.models import Transfer
from timebank.people import idnumber
from timebank.people.errors import ID_REASONS
from timebank.people.models import Resident, User
from timebank.people.selectors import can_manage_region, can_manage_resident, is_staff_member
from timebank.people.services import normalise_phone, resident_register
from timebank.places.models import Region

from .errors import BadFormat
from .files import RowError, read_table, write_csv, write_csv_zip, write_xlsx
from .layout import (
    ID_TYPE_RESIDENT,
    NUMBER_SHAPE,
    SERVICES,
    SEX,
    VOLUNTEERS,
    Table,
    deployment_code,
    own_number_pk,
    volunteer_number_for_pk,
)
from .models import ImportRun, ServiceRecord, VolunteerNumber
from .selectors import Period, service_rows, volunteer_rows

# ------------------------------------------------------------------------------------------------ export


@dataclass(frozen=True)
class ExportFile:
    filename: str
    content_type: str
    content: bytes


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def export_volunteer_records(
    *, actor: User, period: Period | None = None, region: Region | None = None, fmt: str = "xlsx", table: str = "all"
) -> ExportFile:
    """The volunteer records of the actor's area: xlsx (both tables as sheets), or CSV (one table, or
    ``table="all"``: a zip of volunteers.csv and services.csv). Full ID numbers shown are audited."""
    if fmt not in ("xlsx", "csv"):
        raise BadFormat(field="format", value=fmt)
    if table not in ("all", "volunteers", "services"):
        raise BadFormat(field="table", value=table)
    period = period or Period()
    services = service_rows(actor, period=period, region=region)
    tables: list[tuple[Table, list[dict[str, Any]]]] = []
    if table in ("all", "volunteers"):
        tables.append((VOLUNTEERS, volunteer_rows(actor, period=period, region=region, services=services)))
    if table in ("all", "services"):
        tables.append((SERVICES, services))
    stem = "volunteer-records"
    if region is not None:
        stem += f"-{region.code}"
    if period.start or period.end:
        stem += f"-{period.start or ''}_{period.end or ''}"
    if fmt == "xlsx":
        return ExportFile(f"{stem}.xlsx", XLSX, write_xlsx(tables))
    if len(tables) == 1:
        return ExportFile(f"{stem}-{tables[0][0].key}.csv", "text/csv; charset=utf-8", write_csv(*tables[0]))
    return ExportFile(f"{stem}-csv.zip", "application/zip", write_csv_zip(tables))


# ------------------------------------------------------------------------------------------------ import


@dataclass
class ImportReport:
    kind: str
    filename: str
    sha256: str
    dry_run: bool
    rows: int = 0
    created: int = 0
    linked: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    committed: bool = False
    run_id: int | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "filename": self.filename,
            "sha256": self.sha256,
            "dry_run": self.dry_run,
            "ok": self.ok,
            "committed": self.committed,
            "rows": self.rows,
            "created": self.created,
            "linked": self.linked,
            "unchanged": self.unchanged,
            "errors": [{"row": e.row, "column": e.column, "key": e.key, "reason": e.reason} for e in self.errors],
        }


class _Rollback(Exception):
    pass


class _RowCheck:
    """Collects the problems of one row, column by column."""

    def __init__(self, table: Table, number: int, values: dict[str, Any]):
        self.table, self.number, self.values = table, number, values
        self.errors: list[RowError] = []

    def fail(self, key: str, reason: str) -> None:
        header = self.table.column(key).header if key else ""
        self.errors.append(RowError(self.number, header, key, reason))

    def raw(self, key: str) -> Any:
        return self.values.get(key)

    def text(self, key: str, *, required: bool = False, max_length: int = 200) -> str:
        value = self.values.get(key)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        text = "" if value is None else str(value).strip()
        if len(text) > 1 and text[0] == "'" and text[1] in "=+-@":  # our export's formula guard
            text = text[1:]
        if required and not text:
            self.fail(key, _("This cell is empty."))
        elif len(text) > max_length:
            self.fail(key, _("Too long (at most %(n)d characters).") % {"n": max_length})
            return ""
        return text

    def integer(self, key: str, *, low: int, high: int, required: bool = True) -> int | None:
        value = self.values.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.fail(key, _("This cell is empty."))
            return None
        try:
            if isinstance(value, bool):
                raise ValueError
            if isinstance(value, float):
                if not value.is_integer():
                    raise ValueError
                number = int(value)
            else:
                number = int(str(value).strip())
        except ValueError:
            self.fail(key, _("Not a whole number: %(value)s.") % {"value": value})
            return None
        if not low <= number <= high:
            self.fail(key, _("Must be between %(low)d and %(high)d.") % {"low": low, "high": high})
            return None
        return number

    def date(self, key: str) -> dt.date | None:
        value = self.values.get(key)
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        text = "" if value is None else str(value).strip()
        if not text:
            return None
        for fmt in ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y.%m.%d"):
            try:
                return dt.datetime.strptime(text, fmt).date()
            except ValueError:
                continue
        self.fail(key, _("Not a date (write YYYY-MM-DD): %(value)s.") % {"value": text})
        return None

    def moment(self, key: str) -> dt.datetime | None:
        value = self.values.get(key)
        tz = timezone.get_current_timezone()
        if isinstance(value, dt.datetime):
            return value.replace(tzinfo=tz) if timezone.is_naive(value) else value
        text = "" if value is None else str(value).strip()
        if not text:
            self.fail(key, _("This cell is empty."))
            return None
        for fmt in ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d %H:%M:%S"):
            try:
                return dt.datetime.strptime(text, fmt).replace(tzinfo=tz)
            except ValueError:
                continue
        self.fail(key, _("Not a date and time (write YYYY-MM-DD HH:MM): %(value)s.") % {"value": text})
        return None


def _read(file: bytes | IO[bytes]) -> bytes:
    return file if isinstance(file, bytes) else file.read()


def _community(check: _RowCheck, key: str) -> Region | None:
    code = check.text(key, required=True, max_length=24)
    if not code:
        return None
    region = Region.objects.filter(code=code).first()
    if region is None:
        check.fail(key, _("Unknown region code %(code)s.") % {"code": code})
        return None
    if region.level != Region.Level.COMMUNITY:
        check.fail(key, _("%(name)s is not a village or community.") % {"name": region.name})
        return None
    return region


def _number_owner(number: str) -> tuple[Resident | None, bool]:
    """(the resident a volunteer number names here, whether the number is known at all)."""
    stored = VolunteerNumber.objects.filter(number=number).select_related("resident__home_region").first()
    if stored is not None:
        return stored.resident, True
    pk = own_number_pk(number)
    if pk is not None:
        resident = Resident.objects.filter(pk=pk).select_related("home_region").first()
        if resident is not None and not VolunteerNumber.objects.filter(resident=resident).exists():
            return resident, True
        return None, True  # this system's shape, but no such volunteer here
    return None, False


def _current_number(resident: Resident) -> tuple[str, bool]:
    stored = VolunteerNumber.objects.filter(resident=resident).values_list("number", flat=True).first()
    return (stored, True) if stored else (volunteer_number_for_pk(resident.pk), False)


_FIELD_TO_KEY = {"id_number": "id_number", "phone": "phone", "birth_date": "birth_date", "name": "name"}


def _start(actor: User, kind: str, file: bytes | IO[bytes], dry_run: bool, filename: str) -> tuple[bytes, ImportReport]:
    if not is_staff_member(actor):
        raise NotAllowed()
    data = _read(file)
    return data, ImportReport(kind, filename[:200], hashlib.sha256(data).hexdigest(), dry_run)


def _finish(report: ImportReport, actor: User, *, batch_id: int | None = None) -> ImportRun:
    """Inside the import's transaction: decide whether it stays. Raises :class:`_Rollback` if not."""
    if report.errors or report.dry_run or not (report.created or report.linked):
        raise _Rollback()
    if ImportRun.objects.filter(kind=report.kind, sha256=report.sha256).exists():
        raise _Rollback()  # unreachable in practice: the same file's rows would all be unchanged
    return ImportRun.objects.create(
        kind=report.kind,
        sha256=report.sha256,
        filename=report.filename,
        rows=report.rows,
        created=report.created + report.linked,
        unchanged=report.unchanged,
        actor=actor,
        batch_id=batch_id,
    )


def import_volunteers(
    *, actor: User, file: bytes | IO[bytes], dry_run: bool = True, filename: str = "", today: dt.date | None = None
) -> ImportReport:
    """Register the volunteers of a file (the volunteers table) through people.services.resident_register.

    A person already registered (same ID number) with the same volunteer number is unchanged; one
    registered without a number from another system is linked to the file's number."""
    data, report = _start(actor, ImportRun.Kind.VOLUNTEERS, file, dry_run, filename)
    sheet = read_table(VOLUNTEERS, data)
    report.errors.extend(sheet.errors)
    report.rows = len(sheet.rows)
    seen_numbers: dict[str, int] = {}
    seen_ids: dict[str, int] = {}
    pending_links: list[tuple[Resident, str]] = []
    numbers: list[int] = []
    try:
        with transaction.atomic():
            for number_row, values in sheet.rows:
                check = _RowCheck(VOLUNTEERS, number_row, values)
                number = check.text("volunteer_no", required=True, max_length=40)
                if number and not NUMBER_SHAPE.match(number):
                    check.fail("volunteer_no", _("A volunteer number has 4 to 40 letters, digits, -, _ or ."))
                    number = ""
                name = check.text("name", required=True, max_length=64)
                id_type = check.text("id_type", required=True, max_length=20)
                if id_type and id_type not in (ID_TYPE_RESIDENT, "身份证"):
                    check.fail(
                        "id_type", _("Only the resident identity card (%(t)s) is accepted.") % {"t": ID_TYPE_RESIDENT}
                    )
                parsed = None
                raw_id = check.raw("id_number")
                if isinstance(raw_id, int | float) and not isinstance(raw_id, bool):
                    check.fail(
                        "id_number",
                        _("The ID number was stored as a number and has lost digits; format the column as text."),
                    )
                else:
                    id_text = check.text("id_number", required=True, max_length=30)
                    if id_text:
                        try:
                            parsed = idnumber.parse(id_text, today=today or timezone.localdate())
                        except idnumber.IdNumberError as exc:
                            check.fail(
                                "id_number", _("The ID number is not valid: %(r)s.") % {"r": ID_REASONS[exc.reason]}
                            )
                sex = check.text("sex", max_length=4)
                if parsed and sex and sex not in (SEX[parsed.sex], parsed.sex):
                    check.fail("sex", _("Does not match the ID number (%(s)s).") % {"s": SEX[parsed.sex]})
                birth = check.date("birth_date")
                if parsed and birth and birth != parsed.birth_date:
                    check.fail("birth_date", _("Does not match the ID number (%(d)s).") % {"d": parsed.birth_date})
                phone = check.text("phone", max_length=20)
                if phone:
                    try:
                        phone = normalise_phone(phone)
                    except DomainError as exc:
                        check.fail("phone", exc.text)
                region = _community(check, "community_code")
                if region is not None and not can_manage_region(actor, region):
                    check.fail("community_code", _("This community is outside the area you look after."))
                if number:
                    if number in seen_numbers:
                        check.fail(
                            "volunteer_no",
                            _("Duplicate row: the same volunteer number as row %(n)d.") % {"n": seen_numbers[number]},
                        )
                    else:
                        seen_numbers[number] = number_row
                if parsed:
                    if parsed.number in seen_ids:
                        check.fail(
                            "id_number",
                            _("Duplicate row: the same ID number as row %(n)d.") % {"n": seen_ids[parsed.number]},
                        )
                    else:
                        seen_ids[parsed.number] = number_row
                if check.errors or parsed is None or region is None:
                    report.errors.extend(check.errors)
                    continue
                existing = Resident.objects.filter(id_hash=idnumber.keyed_hash(parsed.number)).first()
                _owner, known = _number_owner(number)
                if existing is not None:
                    current, stored = _current_number(existing)
                    if not can_manage_resident(actor, existing):
                        check.fail("id_number", _("This person is registered outside the area you look after."))
                    elif existing.name != name:
                        check.fail("name", _("This ID number is registered here under another name."))
                    elif current == number:
                        report.unchanged += 1
                    elif stored:
                        check.fail(
                            "volunteer_no", _("This person already has the volunteer number %(n)s.") % {"n": current}
                        )
                    elif known:
                        check.fail("volunteer_no", _("This volunteer number belongs to another person here."))
                    else:
                        pending_links.append((existing, number))
                        report.linked += 1
                    report.errors.extend(check.errors)
                    continue
                if known:
                    check.fail("volunteer_no", _("This volunteer number belongs to another person here."))
                    report.errors.extend(check.errors)
                    continue
                try:
                    with transaction.atomic():
                        resident = resident_register(
                            actor=actor,
                            name=name,
                            id_number=parsed.number,
                            home_region=region,
                            phone=phone,
                            birth_date=birth,
                            roles=["volunteer"],
                            today=today,
                        )
                        numbers.append(VolunteerNumber.objects.create(resident=resident, number=number).pk)
                except DomainError as exc:
                    check.fail(_FIELD_TO_KEY.get(exc.field or "", "name"), exc.text)
                    report.errors.extend(check.errors)
                    continue
                report.created += 1
            for resident, number in pending_links:
                numbers.append(VolunteerNumber.objects.create(resident=resident, number=number).pk)
            run = _finish(report, actor)
            VolunteerNumber.objects.filter(pk__in=numbers).update(run=run)
            report.committed, report.run_id = True, run.pk
    except _Rollback:
        pass
    report.errors.sort(key=lambda e: (e.row, e.key))
    return report


_VISIT_RECORD = re.compile(r"^(?P<code>.+)-V(?P<pk>\d{10})$")
_SAME_FIELDS = (
    "volunteer_id",
    "item_id",
    "region_id",
    "start",
    "end",
    "actual_minutes",
    "credited_minutes",
    "rating",
    "complaint",
)


def import_service_records(
    *, actor: User, file: bytes | IO[bytes], dry_run: bool = True, filename: str = ""
) -> ImportReport:
    """Record past services of a file (the services table) and credit their hours in one ledger batch."""
    data, report = _start(actor, ImportRun.Kind.SERVICES, file, dry_run, filename)
    sheet = read_table(SERVICES, data)
    report.errors.extend(sheet.errors)
    report.rows = len(sheet.rows)
    code = deployment_code()
    now = timezone.now()
    items = {i.code: i for i in Item.objects.all()}
    seen_records: dict[str, int] = {}
    seen_content: dict[tuple[Any, ...], int] = {}
    new: list[tuple[int, ServiceRecord]] = []
    try:
        with transaction.atomic():
            for number_row, values in sheet.rows:
                check = _RowCheck(SERVICES, number_row, values)
                record_no = check.text("record_no", required=True, max_length=40)
                if record_no and not NUMBER_SHAPE.match(record_no):
                    check.fail("record_no", _("A record number has 4 to 40 letters, digits, -, _ or ."))
                    record_no = ""
                origin = check.text("origin", max_length=40) or "EXT"
                number = check.text("volunteer_no", required=True, max_length=40)
                name = check.text("volunteer_name", required=True, max_length=64)
                volunteer = None
                if number:
                    volunteer, _known = _number_owner(number)
                    if volunteer is None:
                        check.fail("volunteer_no", _("Unknown volunteer number: import the volunteer first."))
                    elif not can_manage_resident(actor, volunteer):
                        check.fail("volunteer_no", _("This volunteer is outside the area you look after."))
                        volunteer = None
                    elif name and volunteer.name != name:
                        check.fail(
                            "volunteer_name",
                            _("Does not match the volunteer number (registered as %(n)s).") % {"n": volunteer.name},
                        )
                item_code = check.text("item_code", required=True, max_length=32)
                item = items.get(item_code)
                if item_code and item is None:
                    check.fail("item_code", _("Unknown service item %(code)s.") % {"code": item_code})
                region = _community(check, "community_code")
                start, end = check.moment("start"), check.moment("end")
                if start and end and end <= start:
                    check.fail("end", _("The end must come after the start."))
                if end and end > now:
                    check.fail("end", _("The service lies in the future."))
                actual = check.integer("actual_minutes", low=1, high=24 * 60)
                credited = check.integer("credited_minutes", low=1, high=10 * 24 * 60)
                rating = check.integer("rating", low=1, high=5, required=False)
                complaint_text = check.text("complaint", max_length=4)
                complaint = complaint_text in ("是", "yes", "Yes", "YES", "1", "true", "True", "Y", "y")
                if (
                    complaint_text
                    and not complaint
                    and complaint_text not in ("否", "no", "No", "NO", "0", "false", "False", "N", "n")
                ):
                    check.fail("complaint", _("Write 是 or 否."))
                note = check.text("complaint_note", max_length=500)
                if record_no:
                    if record_no in seen_records:
                        check.fail(
                            "record_no",
                            _("Duplicate row: the same record number as row %(n)d.") % {"n": seen_records[record_no]},
                        )
                    else:
                        seen_records[record_no] = number_row
                if volunteer is not None and start is not None and item is not None:
                    content = (volunteer.pk, item.pk, start)
                    if content in seen_content:
                        check.fail(
                            "start",
                            _("Duplicate row: the same volunteer, item and start as row %(n)d.")
                            % {"n": seen_content[content]},
                        )
                    else:
                        seen_content[content] = number_row
                if check.errors or None in (volunteer, item, region, start, end, actual, credited):
                    report.errors.extend(check.errors)
                    continue
                assert volunteer and item and region and start and end and actual and credited
                own = _VISIT_RECORD.match(record_no)
                if own and own.group("code") == code:
                    if Visit.objects.filter(pk=int(own.group("pk")), volunteer=volunteer).exists():
                        report.unchanged += 1  # one of this system's own visits coming back
                    else:
                        check.fail("record_no", _("This system has no such visit."))
                        report.errors.extend(check.errors)
                    continue
                record = ServiceRecord(
                    record_no=record_no,
                    origin=origin,
                    volunteer=volunteer,
                    item=item,
                    region=region,
                    start=start,
                    end=end,
                    actual_minutes=actual,
                    credited_minutes=credited,
                    rating=rating,
                    complaint=complaint,
                    complaint_note=note,
                )
                existing = ServiceRecord.objects.filter(record_no=record_no).first()
                if existing is not None:
                    if all(getattr(existing, f) == getattr(record, f) for f in _SAME_FIELDS):
                        report.unchanged += 1
                    else:
                        check.fail("record_no", _("A record with this number was imported before with other details."))
                        report.errors.extend(check.errors)
                    continue
                clash = ServiceRecord.objects.filter(volunteer=volunteer, item=item, start=start).first()
                if (
                    clash is not None
                    or Visit.objects.filter(volunteer=volunteer, need__item=item, check_in_at=start).exists()
                ):
                    check.fail(
                        "start",
                        _("This service is already recorded (%(n)s).")
                        % {"n": clash.record_no if clash else _("a visit")},
                    )
                    report.errors.extend(check.errors)
                    continue
                new.append((number_row, record))
            report.created = len(new)
            batch = None
            if new and not report.errors:
                key = f"exch-svc-{report.sha256[:40]}"
                issuance = ledger.system_account("issuance")
                entries = [
                    ledger.BatchEntry(
                        f"r{row}",
                        issuance,
                        ledger.account_for(rec.volunteer),
                        rec.credited_minutes,
                        Transfer.Kind.SERVICE_CREDIT,
                        memo=f"{rec.item.name} {timezone.localtime(rec.start):%Y-%m-%d}",
                        place=rec.region,
                        ref=f"exch:{rec.record_no}",
                    )
                    for row, rec in new
                ]
                try:
                    batch = ledger.batch_post(
                        key=key, entries=entries, actor=actor, description=f"import {report.filename}"
                    )
                except DomainError as exc:
                    report.errors.append(RowError(0, "", "", exc.text))
                else:
                    transfers = {t.key: t for t in Transfer.objects.filter(batch=batch)}
                    for row, rec in new:
                        rec.transfer = transfers[f"{key}/r{row}"[:80]]
            run = _finish(report, actor, batch_id=batch.pk if batch else None)
            for _row, rec in new:
                rec.run = run
            ServiceRecord.objects.bulk_create([rec for _row, rec in new])
            report.committed, report.run_id = True, run.pk
    except _Rollback:
        pass
    report.errors.sort(key=lambda e: (e.row, e.key))
    return report
