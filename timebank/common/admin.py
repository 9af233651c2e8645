from django.contrib import admin

from .admin_base import ReadOnlyAdmin
from .models import PolicyValue


@admin.register(PolicyValue)
class PolicyValueAdmin(ReadOnlyAdmin):
    list_display = ("key", "value", "effective_from", "created_by", "note")
    list_filter = ("key",)
