"""``django.contrib.admin`` with the Time Bank's site (``people.admin_site``): who may use /admin/.

In its own module: an AppConfig module must not import models, and ``people.apps`` may hold one config only.
"""

from django.contrib.admin.apps import AdminConfig as BaseAdminConfig


class AdminConfig(BaseAdminConfig):
    default_site = "timebank.people.admin_site.TimeBankAdminSite"
