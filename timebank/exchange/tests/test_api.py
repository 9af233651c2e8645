"""/api/v1/exchange: export download, import dry run and commit, scopes, the error shape."""

from __future__ import annotations

import datetime as dt

import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from timebank.api.tests.conftest import assert_error
from timebank.exchange.layout import SERVICES, VOLUNTEERS

from .conftest import counts, make_csv, read_csv, read_xlsx
from .test_services import _new_person, _volunteers_file


def _upload(api, kind, data, token, dry_run=True, name="people.csv"):
    return api.client.post(
        f"/api/v1/exchange/import/{kind}?dry_run={'true' if dry_run else 'false'}",
        {"file": SimpleUploadedFile(name, data)},
        headers={"Authorization": f"Bearer {token}", "Accept-Language": "en"},
    )


def test_export_xlsx_and_csv(api, token, world, paid, supervisor, other_town_admin):
    paid(rate=5)
    response = api.get("/exchange/export", token=token(supervisor, "read"))
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    assert read_xlsx(response.content)["服务记录"][0] == SERVICES.headers
    response = api.get("/exchange/export", token=token(supervisor, "read"), format="csv", table="volunteers")
    assert read_csv(response.content)[0] == VOLUNTEERS.headers
    other = api.get("/exchange/export", token=token(other_town_admin, "read"), format="csv", table="services")
    assert len(read_csv(other.content)) == 1  # only the header: another region's records are not shown


def test_export_bad_input_has_the_error_shape(api, token, world, supervisor):
    t = token(supervisor, "read")
    assert_error(api.get("/exchange/export", token=t, region="999"), 400, "exchange.unknown_region")
    assert_error(api.get("/exchange/export", token=t, format="pdf"), 400, "invalid_input")
    assert_error(api.get("/exchange/export", token=t, **{"from": "2026-02-01", "to": "2026-01-01"}), 400)
    assert_error(api.get("/exchange/export"), 401)
    assert_error(api.get("/exchange/export", token=token(world.vol, "read")), 403)


def test_import_dry_run_then_commit(api, token, world, town_admin):
    t = token(town_admin)
    data = _volunteers_file(_new_person(), _new_person(name="第二位"))
    before = counts()
    response = _upload(api, "volunteers", data, t)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["ok"] and body["dry_run"] and not body["committed"] and body["created"] == 2
    assert counts() == before
    response = _upload(api, "volunteers", data, t, dry_run=False)
    assert response.status_code == 200 and response.json()["committed"]
    again = _upload(api, "volunteers", data, t, dry_run=False).json()
    assert again["unchanged"] == 2 and not again["committed"]


def test_import_with_bad_rows(api, token, world, town_admin):
    t = token(town_admin)
    bad = _new_person(birth_date="1990-02-30")
    data = _volunteers_file(_new_person(), bad)
    report = _upload(api, "volunteers", data, t).json()
    assert [(e["row"], e["key"]) for e in report["errors"]] == [(3, "birth_date")]
    before = counts()
    body = assert_error(_upload(api, "volunteers", data, t, dry_run=False), 400, "exchange.import_refused")
    assert body["details"][0]["field"] == "3:birth_date"
    assert counts() == before


def test_import_scopes(api, token, world, town_admin, supervisor):
    data = make_csv([SERVICES.headers])
    assert_error(_upload(api, "volunteers", data, token(town_admin, "read")), 403, "api.missing_scope")
    assert_error(_upload(api, "services", data, token(town_admin, "read", "write")), 403, "api.missing_scope")
    assert_error(_upload(api, "volunteers", data, token(world.vol)), 403, "not_allowed")
    with time_machine.travel(timezone.now() + dt.timedelta(days=1)):
        ok = _upload(api, "services", data, token(supervisor), name="s.csv")
    assert ok.status_code == 200 and ok.json()["rows"] == 0
