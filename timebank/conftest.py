"""Shared test fixtures for the foundation apps: a small region tree, residents and staff of every role.

Everything is built through the services (places.services, people.services), so the fixtures obey the
same rules as real data. The city and its 23 towns come from the migrations (places/0002).

Tree used by the tests::

    中山市 442000 (city)
    ├── 石岐街道 442000001 (town)
    │   ├── 莲峰社区 442000001001 (community) ── 莲峰社区服务站 S-LF (site)
    │   └── 悦来社区 442000001002 (community)
    └── 坦洲镇 442000107 (town)
        └── 坦洲村 442000107001 (community) ── 坦洲村服务站 S-TZ (site)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from timebank.people import services as people_services
from timebank.people.models import Resident, StaffRole, User
from timebank.people.tests.factories import ResidentFactory, birth_date_for_age, next_seq  # noqa: F401 - re-exported for tests
from timebank.places import services as places_services
from timebank.places.models import Region, Site

PASSWORD = "Tb-test-pass-2026"  # noqa: S105 - test fixture


@pytest.fixture(autouse=True)
def _fresh_webhook_endpoints() -> None:
    """Each process caches the active webhook endpoints; a test's endpoints vanish with its rollback."""
    from timebank.certificates.webhooks import endpoints_changed

    endpoints_changed()


@pytest.fixture(autouse=True)
def _test_settings(settings: Any) -> None:
    """Fast password hashing; plain static storage (the manifest and STATIC_ROOT exist only after
    ``collectstatic``; the app's own static files are served from the app directories).

    The test client speaks plain HTTP, so the HTTPS redirect is off. Staff two-factor login and the staff
    idle timeout are off (tests log staff in with ``force_login`` and move the clock); their own tests, in
    timebank/web/tests/test_account_security.py, switch them on."""
    settings.SECURE_SSL_REDIRECT = False
    settings.OTP_REQUIRED_FOR_STAFF = False
    settings.STAFF_SESSION_IDLE_MINUTES = 0
    settings.STATIC_ROOT = None
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def city(db: None) -> Region:
    return Region.objects.get(code="442000")


@pytest.fixture
def town(db: None) -> Region:
    return Region.objects.get(code="442000001")  # 石岐街道


@pytest.fixture
def other_town(db: None) -> Region:
    return Region.objects.get(code="442000107")  # 坦洲镇


@pytest.fixture
def community(town: Region) -> Region:
    return places_services.region_create(
        parent=town, code="442000001001", name="莲峰社区", level="community", kind="社区", lat=22.523, lon=113.379
    )


@pytest.fixture
def community_b(town: Region) -> Region:
    return places_services.region_create(
        parent=town, code="442000001002", name="悦来社区", level="community", kind="社区", lat=22.519, lon=113.381
    )


@pytest.fixture
def other_community(other_town: Region) -> Region:
    return places_services.region_create(
        parent=other_town, code="442000107001", name="坦洲村", level="community", kind="村", lat=22.265, lon=113.465
    )


@pytest.fixture
def site(community: Region) -> Site:
    return places_services.site_create(
        actor=None, code="S-LF", name="莲峰社区服务站", kind="station", region=community, lat=22.523, lon=113.379
    )


@pytest.fixture
def other_site(other_community: Region) -> Site:
    return places_services.site_create(
        actor=None, code="S-TZ", name="坦洲村服务站", kind="station", region=other_community, lat=22.265, lon=113.465
    )


@pytest.fixture
def make_resident(db: None, community: Region) -> Callable[..., Resident]:
    def make(**kwargs: Any) -> Resident:
        kwargs.setdefault("home_region", community)
        return ResidentFactory(**kwargs)

    return make


@pytest.fixture
def make_staff(db: None) -> Callable[..., User]:
    """``make_staff("town_admin", region=town)``; phones are fresh 139… numbers; password is PASSWORD."""

    def make(role: str, *, region: Region | None = None, site: Site | None = None, **kwargs: Any) -> User:
        kwargs.setdefault("organisation", "中山市红十字会" if role == StaffRole.Role.PARTNER_ADMIN else "")
        return people_services.staff_create(
            actor=kwargs.pop("actor", None),
            phone=kwargs.pop("phone", f"139{next_seq():08d}"),
            name=kwargs.pop("name", f"职员{role}"),
            password=PASSWORD,
            role=role,
            region=region,
            site=site,
            **kwargs,
        )

    return make


@pytest.fixture
def superuser(db: None) -> User:
    return User.objects.create_superuser(username="13700000000", password=PASSWORD)


@pytest.fixture
def supervisor(make_staff: Callable[..., User], city: Region) -> User:
    return make_staff("city_supervisor", region=city, name="市局督导")


@pytest.fixture
def town_admin(make_staff: Callable[..., User], town: Region) -> User:
    return make_staff("town_admin", region=town, name="石岐管理员")


@pytest.fixture
def other_town_admin(make_staff: Callable[..., User], other_town: Region) -> User:
    return make_staff("town_admin", region=other_town, name="坦洲管理员")


@pytest.fixture
def social_worker(make_staff: Callable[..., User], site: Site) -> User:
    return make_staff("social_worker", site=site, name="莲峰社工")


@pytest.fixture
def partner_admin(make_staff: Callable[..., User], town: Region) -> User:
    return make_staff("partner_admin", region=town, name="红会管理员", organisation="石岐红十字会")
