from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from timebank.api.api import api
from timebank.certificates.views import verify as certificate_verify

admin.site.site_header = _("Time Bank administration")
admin.site.site_title = _("Time Bank")
admin.site.index_title = _("What your area holds")

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", api.urls),
    path("verify/<str:code>", certificate_verify, name="certificate-verify"),
    path("", include("timebank.web.urls")),
]
