"""A minimal Django project holding django-hordak, the baseline the Time Bank ledger is measured against.

It runs in its own virtualenv (bench/.venv-hordak, made by ``make bench``) so that hordak's dependencies
(django-mptt, django-money, django-import-export, …) never enter the project's environment.
"""
