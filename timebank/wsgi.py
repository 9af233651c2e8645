"""WSGI entry point (gunicorn timebank.wsgi).

The system checks run before the first request is served, as ``manage.py runserver`` does: outside DEBUG a
production site on development settings (built-in keys, plain HTTP, no broker …) stops here with the list of
what to set (timebank/web/checks.py), and gunicorn's workers fail to boot.
"""

import os

from django.core.management import call_command
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "timebank.settings")

application = get_wsgi_application()
call_command("check", fail_level="ERROR")
