from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CertificatesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "timebank.certificates"
    verbose_name = _("Volunteer certificates and webhooks")
