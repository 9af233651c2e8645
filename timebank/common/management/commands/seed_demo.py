"""``manage.py seed_demo --scale tiny|small|city [--seed N] [--if-empty]``: load the demo city.

The work is done by the demo steps of the apps (``<app>/demo.py``, see
:mod:`timebank.common.management.demo`); this command only checks the database is empty, runs the steps
in one transaction and prints what was made. docs/demo-data.md describes the result.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from timebank.common.management.demo import SCALES, DemoContext, discover_steps, fingerprint, run_steps
from timebank.people.models import Resident
from timebank.places.models import Region

DEFAULT_SEED = 2026


class Command(BaseCommand):
    help = "Load a demo city (towns' communities, sites, volunteers, elders, families, staff) into an empty database."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--scale",
            choices=list(SCALES),
            default="small",
            help="; ".join(f"{s.name}: {s.description}" for s in SCALES.values()),
        )
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
        parser.add_argument(
            "--if-empty", action="store_true", help="do nothing (and succeed) when residents already exist"
        )
        parser.add_argument(
            "--until", metavar="STEP", help="stop after this step (e.g. people.demo_accounts); the steps are printed"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        existing = Resident.objects.count()
        if existing:
            if options["if_empty"]:
                self.stdout.write(f"seed_demo: the database already has {existing} residents; demo data not loaded.")
                return
            raise CommandError(
                f"The database already has {existing} residents. seed_demo loads a demo city into an empty "
                "database only: use a fresh database (or --if-empty to skip quietly)."
            )
        if Region.objects.filter(level=Region.Level.COMMUNITY).exists():
            raise CommandError("The database already has villages/communities; seed_demo needs a fresh database.")
        scale = SCALES[options["scale"]]
        ctx = DemoContext(seed=options["seed"], scale=scale, log=self.stdout.write)
        steps = discover_steps()
        if options["until"]:
            names = [s.name for s in steps]
            if options["until"] not in names:
                raise CommandError(f"No step {options['until']!r}; the steps are: {', '.join(names)}.")
            steps = steps[: names.index(options["until"]) + 1]
        self.stdout.write(f"seed_demo: scale={scale.name} seed={ctx.seed}, {len(steps)} steps")
        start = time.perf_counter()
        with transaction.atomic():  # all or nothing: a failed step leaves the database as it was
            run_steps(ctx, steps)
        elapsed = time.perf_counter() - start
        self.stdout.write("seed_demo: made " + ", ".join(f"{k}={v}" for k, v in sorted(ctx.counts.items())))
        if options["verbosity"] >= 2:
            self.stdout.write(f"seed_demo: fingerprint {fingerprint()}")
        self.stdout.write(self.style.SUCCESS(f"seed_demo: done in {elapsed:.1f} s. Logins: manage.py demo_logins"))
