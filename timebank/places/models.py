"""The region tree (city → town/street → village/community) and the service sites on it."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Region(models.Model):
    """A node of the region tree.

    ``path`` is the chain of codes from the root, each followed by "/", e.g. ``442000/442000001/``.
    A region's subtree is ``path__startswith=region.path``: one indexed range scan, which is how staff
    scopes are enforced.

    Updates: names and coordinates may be corrected; code, parent and path do not change.
    Deletion: refused while anything points at it (PROTECT).
    Guarantees: code is unique; path is unique and a child's path extends its parent's.
    """

    class Level(models.TextChoices):
        CITY = "city", _("City")
        TOWN = "town", _("Town or street")
        COMMUNITY = "community", _("Village or community")

    code = models.CharField(_("code"), max_length=24, unique=True)
    name = models.CharField(_("name"), max_length=64)
    level = models.CharField(_("level"), max_length=16, choices=Level.choices)
    kind = models.CharField(_("kind"), max_length=16, blank=True, help_text=_("街道, 镇, 社区, 村"))
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    path = models.CharField(max_length=255, unique=True, editable=False)
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    lon = models.FloatField(_("longitude"), null=True, blank=True)
    population = models.PositiveIntegerField(_("population"), null=True, blank=True)
    coord_confidence = models.CharField(max_length=16, blank=True)

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["path"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(parent__isnull=True, level="city") | models.Q(parent__isnull=False),
                name="region_root_is_city",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def contains(self, other: Region) -> bool:
        return other.path.startswith(self.path)


class Site(models.Model):
    """A place where services are organised or given.

    Updates: name, phone, address and coordinates may change; kind and region rarely.
    Deletion: refused while staff or records point at it; close it with ``active=False``.
    Guarantees: code is unique.
    """

    class Kind(models.TextChoices):
        CENTRE = "centre", _("Town elderly-care service centre")
        STATION = "station", _("Community service station")
        REDCROSS = "redcross", _("Red Cross Boai Home point")
        CARE_HOME = "care_home", _("Care home")

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=96)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="sites", verbose_name=_("region"))
    address = models.CharField(_("address"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    lat = models.FloatField(_("latitude"))
    lon = models.FloatField(_("longitude"))
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("service site")
        verbose_name_plural = _("service sites")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name
