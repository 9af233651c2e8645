"""Celery application. Tasks run eagerly when no broker is configured (the embedded default, DEBUG only).

A worker or beat runs the system checks as it starts, as gunicorn does (timebank/wsgi.py): outside DEBUG
it refuses development keys and settings (timebank/web/checks.py).
"""

import os
from typing import Any

from celery import Celery
from celery.signals import beat_init, worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "timebank.settings")

app = Celery("timebank")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
@beat_init.connect
def _refuse_development_settings(**kwargs: Any) -> None:
    import sys

    import django
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    django.setup()
    try:
        call_command("check", fail_level="ERROR")
    except SystemCheckError as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(1) from None  # Celery logs and ignores an Exception from a signal handler
