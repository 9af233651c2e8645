"""Settings for the django-hordak baseline (bench/hordak_project). Database from HORDAK_DATABASE_URL."""

import os

import dj_database_url

SECRET_KEY = "bench-only-not-secret"
DEBUG = False
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "mptt",
    "hordak",
]
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("HORDAK_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tb_bench_hordak")
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "Asia/Shanghai"
# Minutes are booked as an amount of "CNY" with 0 decimal places' worth of meaning; hordak needs a currency.
DEFAULT_CURRENCY = "CNY"
HORDAK_INTERNAL_CURRENCY = "CNY"
CURRENCIES = ["CNY"]
HORDAK_CURRENCIES = ["CNY"]
