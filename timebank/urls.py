from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import include, path, re_path

from timebank.api.api import api, not_found
from timebank.certificates.views import verify as certificate_verify
from timebank.ledger.views import published_seal

handler500 = "timebank.common.unavailable.server_error"  # a lost database connection outside a view: 503


def _api_unknown(request: HttpRequest) -> HttpResponse:
    """An unknown address under /api/ answers with the API's error shape, not the HTML 404 page."""
    from django.http import Http404

    return not_found(request, Http404())


urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", api.urls),
    re_path(r"^api/", _api_unknown),
    path("verify/<str:code>", certificate_verify, name="certificate-verify"),
    path("ledger/seal/", published_seal, name="ledger-seal"),
    path("", include("timebank.web.urls")),
]
