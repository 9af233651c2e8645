"""The demo-city framework: an ordered registry of steps that build a demo city through the services.

Each app that contributes demo data has a ``demo.py`` module with one or more functions decorated with
:func:`demo_step`. ``manage.py seed_demo`` imports every installed app's ``demo`` module (Django's
``autodiscover_modules``), sorts the steps by ``order`` and runs each one in its own
``transaction.atomic`` block, passing one shared :class:`DemoContext`.

Rules for a step (so that later issues can add visits, hours and training without breaking the first ones):

* Write only through the app's services (``*_create``, ``*_register`` …), never with raw ORM writes, so the
  demo obeys the same checks as real use.
* Draw random numbers only from ``ctx.rng(step_name)``: each step has its own generator seeded from
  ``(seed, step name)``, so adding a step later does not change the data of the steps before it, and the
  same ``--seed`` always gives the same city. Never use the global ``random`` module or the clock for data;
  dates are relative to :data:`DEMO_REFERENCE_DATE`.
* Put what later steps need on the context (``ctx.towns``, ``ctx.volunteers`` …, or ``ctx.extra`` for
  new kinds of objects) and count what was made in ``ctx.counts``.
* Per-scale sizes live in :class:`Scale`; a later app can keep its own table keyed by ``ctx.scale.name``.

Orders in use: 100-110 places, 200-240 people, 350 training, 400 care, 450 ledger (300 is free for teams).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils.module_loading import autodiscover_modules

if TYPE_CHECKING:
    from timebank.people.models import Resident, User
    from timebank.places.models import Region, Site

#: One password for every demo account, printed by ``manage.py demo_logins``. Demo databases only.
DEMO_PASSWORD = "demo-2026"  # noqa: S105 - published on purpose: it opens the demo accounts
#: The TOTP secret (hex, as django-otp stores it) of every demo town admin and city supervisor: their second
#: login step. Published on purpose like DEMO_PASSWORD; ``manage.py demo_logins`` prints it in base32 (for an
#: authenticator app) and ``demo_logins --code`` prints the code of the moment. Demo databases only.
DEMO_TOTP_KEY_HEX = "74696d6562616e6b2d64656d6f2d746f74702121"

#: Ages and birth dates of demo people are computed as of this day (not the clock), so a seed gives the
#: same birth dates on any day. It lies in the past, so no birth date is ever in the future.
DEMO_REFERENCE_DATE = dt.date(2026, 11, 1)


@dataclass(frozen=True)
class Scale:
    """How big the demo city is. Counts are targets for the generated people (demo accounts come on top)."""

    name: str
    communities: int  # villages/communities over the 23 towns, proportional to population
    min_communities_per_town: int
    redcross_points: int  # 红十字会博爱家园 points, in communities chosen by population
    care_homes: int
    volunteers: int
    elders: int
    minors: int  # 15-16-year-old students: registered, refused the volunteer role (they serve only in groups)
    description: str = ""


SCALES: dict[str, Scale] = {
    s.name: s
    for s in [
        Scale("tiny", 23, 1, 3, 2, 60, 90, 2, "for tests: one community per town"),
        Scale("small", 60, 1, 5, 3, 600, 900, 5, "for make run: a few seconds"),
        Scale("city", 170, 2, 25, 15, 20_000, 30_000, 60, "a city-sized load: >= 20,000 volunteers, 30,000 elders"),
    ]
}


@dataclass
class DemoLogin:
    """A demo account worth showing on the login table."""

    role: str  # a label such as "city supervisor"
    username: str
    name: str
    where: str


@dataclass
class DemoContext:
    """What the steps share: the scale, the random generators and the objects created so far."""

    seed: int
    scale: Scale
    today: dt.date = DEMO_REFERENCE_DATE
    password: str = DEMO_PASSWORD
    log: Callable[[str], None] = print

    city: Region | None = None
    towns: list[Region] = field(default_factory=list)
    communities: list[Region] = field(default_factory=list)
    communities_by_town: dict[int, list[Region]] = field(default_factory=dict)  # town pk → communities
    sites: list[Site] = field(default_factory=list)
    centres: dict[int, Site] = field(default_factory=dict)  # town pk → 综合养老服务中心
    stations: dict[int, Site] = field(default_factory=dict)  # community pk → 社区服务站
    volunteers: list[Resident] = field(default_factory=list)
    elders: list[Resident] = field(default_factory=list)
    proxies: list[Resident] = field(default_factory=list)  # relatives registered to act for an elder
    staff: dict[str, list[User]] = field(default_factory=dict)  # role → users
    logins: list[DemoLogin] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)  # for later steps' own objects

    def rng(self, name: str) -> random.Random:
        """The random generator of one step: seeded from (seed, name), independent of other steps."""
        return random.Random(f"timebank-demo:{self.seed}:{name}")  # noqa: S311 - demo data, not secrets

    def count(self, key: str, n: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + n


StepFunction = Callable[[DemoContext], None]


@dataclass(frozen=True)
class Step:
    name: str
    order: int
    function: StepFunction
    description: str


_REGISTRY: dict[str, Step] = {}


def demo_step(name: str, *, order: int, description: str = "") -> Callable[[StepFunction], StepFunction]:
    """Register ``function`` as the demo step ``name`` (unique), run in ascending ``order``."""

    def register(function: StepFunction) -> StepFunction:
        existing = _REGISTRY.get(name)
        if existing is not None and existing.function.__qualname__ != function.__qualname__:
            raise ValueError(f"demo step {name!r} is registered twice")
        _REGISTRY[name] = Step(name, order, function, description or (function.__doc__ or "").strip().split("\n")[0])
        return function

    return register


def discover_steps() -> list[Step]:
    """Import every installed app's ``demo`` module and return the registered steps in order."""
    autodiscover_modules("demo")
    return sorted(_REGISTRY.values(), key=lambda s: (s.order, s.name))


@contextmanager
def _timed() -> Iterator[Callable[[], float]]:
    start = time.perf_counter()
    yield lambda: time.perf_counter() - start


def run_steps(ctx: DemoContext, steps: list[Step] | None = None) -> dict[str, float]:
    """Run the steps in order, each in one transaction; return the seconds each step took."""
    steps = discover_steps() if steps is None else steps
    timings: dict[str, float] = {}
    for index, step in enumerate(steps, start=1):
        ctx.log(f"[{index}/{len(steps)}] {step.name}: {step.description}")
        with _timed() as elapsed, transaction.atomic():
            step.function(ctx)
        timings[step.name] = elapsed()
        ctx.log(f"        done in {timings[step.name]:.1f} s")
    return timings


# --- fingerprint: a short hash of the demo data, to show that a seed always gives the same city ----------

_FINGERPRINT_FIELDS: dict[str, tuple[str, ...]] = {}


def fingerprint_fields(model_label: str, fields: tuple[str, ...]) -> None:
    """Declare which fields of ``model_label`` ("app.Model") the fingerprint covers (no pks, no clocks)."""
    _FINGERPRINT_FIELDS[model_label] = fields


def fingerprint() -> str:
    """SHA-256 over the declared fields of every row of the declared models, in a database-independent order.

    Primary keys, timestamps and encrypted columns (random nonces) are left out, so two databases seeded
    with the same ``--seed`` have the same fingerprint, on SQLite and PostgreSQL alike.
    """
    from django.apps import apps

    discover_steps()
    digest = hashlib.sha256()
    for label in sorted(_FINGERPRINT_FIELDS):
        fields = _FINGERPRINT_FIELDS[label]
        rows = sorted(repr(row) for row in apps.get_model(label).objects.values_list(*fields))
        digest.update(f"{label}:{len(rows)}\n".encode())
        for row in rows:
            digest.update(row.encode())
            digest.update(b"\n")
    return digest.hexdigest()
