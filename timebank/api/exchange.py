"""Exchange with the national volunteer information system and the city platform (docs/exchange.md).

``GET /exchange/export`` downloads volunteer records (xlsx or CSV) of the caller's area by period and
region; ``POST /exchange/import/{kind}`` takes an xlsx or CSV file (multipart, field ``file``) and answers
the report. A dry run (the default) writes nothing; a commit with any bad row is refused with the standard
error shape, one detail per problem (field ``<row>:<column key>``), and writes nothing either.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from ninja import Field, File, Query, Router, Schema
from ninja.files import UploadedFile

from timebank.exchange import services
from timebank.exchange.errors import ImportRefused, UnknownRegion
from timebank.exchange.selectors import Period
from timebank.places.models import Region

from .auth import auth_for, caller
from .common import In, responses
from .errors import BodyTooLarge

router = Router(tags=["exchange"])


class ExportQuery(In):
    format: Literal["xlsx", "csv"] = Field("xlsx", description="xlsx: both tables as sheets; csv: one table or a zip.")
    table: Literal["all", "volunteers", "services"] = "all"
    date_from: dt.date | None = Field(None, alias="from", description="First day (service start), inclusive.")
    date_to: dt.date | None = Field(None, alias="to", description="Last day, inclusive.")
    region: str | None = Field(None, max_length=24, description="Region code: the volunteers' home subtree.")


_BINARY = {"schema": {"type": "string", "format": "binary"}}


@router.get(
    "/export",
    response={k: v for k, v in responses(None).items() if k != 200},
    auth=auth_for("read"),
    summary="Download volunteer records",
    openapi_extra={
        "responses": {
            "200": {
                "description": "The file: xlsx (both tables), CSV (one table) or a zip of the CSV files.",
                "content": {services.XLSX: _BINARY, "text/csv": _BINARY, "application/zip": _BINARY},
            }
        }
    },
)
def export(request: HttpRequest, query: Query[ExportQuery]) -> HttpResponse:
    region = None
    if query.region:
        region = Region.objects.filter(code=query.region).first()
        if region is None:
            raise UnknownRegion(field="region", code=query.region)
    out = services.export_volunteer_records(
        actor=caller(request),
        period=Period(query.date_from, query.date_to),
        region=region,
        fmt=query.format,
        table=query.table,
    )
    response = HttpResponse(out.content, content_type=out.content_type)
    response["Content-Disposition"] = f'attachment; filename="{out.filename}"'
    return response


class RowErrorOut(Schema):
    row: int = Field(..., description="Spreadsheet row (the header is row 1; 0: the file as a whole).")
    column: str = Field(..., examples=["证件号码"])
    key: str = Field(..., examples=["id_number"])
    reason: str


class ImportReportOut(Schema):
    kind: str
    filename: str
    sha256: str
    dry_run: bool
    ok: bool
    committed: bool
    rows: int
    created: int
    linked: int
    unchanged: int
    errors: list[RowErrorOut]


def _max_bytes() -> int:
    return int(getattr(settings, "EXCHANGE_MAX_FILE_BYTES", 10 * 1024 * 1024))


def _run(request: HttpRequest, kind: str, file: UploadedFile, dry_run: bool) -> dict[str, Any]:
    if file.size is not None and file.size > _max_bytes():
        raise BodyTooLarge(limit=_max_bytes())
    user = caller(request)
    do = services.import_volunteers if kind == "volunteers" else services.import_service_records
    report = do(actor=user, file=file.read(), dry_run=dry_run, filename=file.name or "")
    if report.errors and not dry_run:
        raise ImportRefused(
            details=[
                {"field": f"{e.row}:{e.key or e.column}", "code": "exchange.bad_row", "message": e.reason}
                for e in report.errors
            ]
        )
    return report.as_dict()


class DryRun(In):
    dry_run: bool = Field(True, description="true (default): check and report only.")


@router.post(
    "/import/volunteers",
    response=responses(ImportReportOut),
    auth=auth_for("write"),
    summary="Import volunteers (xlsx or CSV)",
)
def import_volunteers(request: HttpRequest, query: Query[DryRun], file: File[UploadedFile]) -> dict[str, Any]:
    return _run(request, "volunteers", file, query.dry_run)


@router.post(
    "/import/services",
    response=responses(ImportReportOut),
    auth=auth_for("ledger"),
    summary="Import past service records (xlsx or CSV); credits their hours",
)
def import_services(request: HttpRequest, query: Query[DryRun], file: File[UploadedFile]) -> dict[str, Any]:
    return _run(request, "services", file, query.dry_run)
