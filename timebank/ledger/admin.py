"""Read-only, scoped admin views of the ledger. Nothing here writes: every write goes through services."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest

from timebank.common.admin_base import ReadOnlyAdmin
from timebank.people.selectors import is_city_supervisor, residents_visible_to

from .models import Account, AccountStatusChange, PoolGrant, Seal, Transfer


def _visible_accounts(request: HttpRequest) -> QuerySet[Account]:
    user: Any = request.user
    if is_city_supervisor(user):
        return Account.objects.all()
    return Account.objects.filter(resident__in=residents_visible_to(user).values("pk"))


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ("name", "kind", "status", "credits_posted", "debits_posted", "debits_pending", "credits_pending")
    list_filter = ("kind", "status")
    search_fields = ("name", "code")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return _visible_accounts(request)


@admin.register(Transfer)
class TransferAdmin(ReadOnlyAdmin):
    list_display = ("id", "created_at", "kind", "phase", "debit_account", "credit_account", "amount", "memo")
    list_filter = ("kind", "phase")
    search_fields = ("key", "ref", "memo")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        user: Any = request.user
        qs = Transfer.objects.select_related("debit_account", "credit_account")
        if is_city_supervisor(user):
            return qs
        accounts = _visible_accounts(request).values("pk")
        return qs.filter(Q(debit_account__in=accounts) | Q(credit_account__in=accounts))


@admin.register(Seal)
class SealAdmin(ReadOnlyAdmin):
    list_display = ("id", "first_id", "last_id", "count", "hash", "created_at")
    exclude = ("entries",)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_city_supervisor(request.user)  # type: ignore[arg-type]


@admin.register(PoolGrant)
class PoolGrantAdmin(ReadOnlyAdmin):
    list_display = ("id", "elder", "minutes", "status", "requested_by", "approved_by", "created_at")
    list_filter = ("status",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return PoolGrant.objects.filter(elder__in=residents_visible_to(request.user).values("pk"))  # type: ignore[arg-type]


@admin.register(AccountStatusChange)
class AccountStatusChangeAdmin(ReadOnlyAdmin):
    list_display = ("at", "account", "from_status", "to_status", "actor", "reason")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return AccountStatusChange.objects.filter(account__in=_visible_accounts(request).values("pk"))
