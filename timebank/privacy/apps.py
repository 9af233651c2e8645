from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    """A person's rights over their data across every domain (docs/privacy.md). No models of its own: the
    requests and departures are people's (``people.CorrectionRequest``, ``people.Departure``); this app sits
    above the domains so that it may read and tidy each of them (layer order: after exchange, before api/web).
    """

    name = "timebank.privacy"
    label = "privacy"
    default_auto_field = "django.db.models.BigAutoField"
