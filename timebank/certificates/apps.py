from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CertificatesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "timebank.certificates"
    verbose_name = _("Volunteer certificates and webhooks")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from .models import WebhookEndpoint
        from .webhooks import endpoints_changed

        post_save.connect(endpoints_changed, sender=WebhookEndpoint, dispatch_uid="webhook-endpoints-changed")
        post_delete.connect(endpoints_changed, sender=WebhookEndpoint, dispatch_uid="webhook-endpoints-changed-del")
