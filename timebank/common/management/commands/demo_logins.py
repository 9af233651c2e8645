"""``manage.py demo_logins [--all] [--code]``: print the demo accounts of every role and their one password.

Town admins and the city supervisor also confirm each login with a code from an authenticator app: the demo
gives them all one published key (DEMO_TOTP_KEY_HEX), printed here in base32 for the app; ``--code`` prints
the code of the moment (each code works once, for 30 seconds).
"""

from __future__ import annotations

from base64 import b32encode
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django_otp.oath import TOTP

from timebank.common.management.demo import DEMO_PASSWORD, DEMO_TOTP_KEY_HEX
from timebank.people.demo import DEMO_ACCOUNTS, RESERVED_PREFIXES
from timebank.people.models import StaffRole, User


def _where(user: User) -> str:
    roles = list(StaffRole.objects.filter(user=user).select_related("region", "site"))
    if roles:
        parts = []
        for role in roles:
            place = role.site.name if role.site else role.region.name
            parts.append(f"{place} · {role.organisation}" if role.organisation else place)
        return "; ".join(parts)
    if user.resident is not None:
        return user.resident.home_region.name
    return ""


class Command(BaseCommand):
    help = "Print the demo logins (phone number and password) for every role."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--all", action="store_true", help="also list every demo town admin and social worker")
        parser.add_argument(
            "--code", action="store_true", help="print the login code of this moment for the demo staff's key"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["code"]:
            self.stdout.write(f"{TOTP(bytes.fromhex(DEMO_TOTP_KEY_HEX)).token():06d}")
            return
        users = {
            u.username: u
            for u in User.objects.filter(username__in=[a.phone for a in DEMO_ACCOUNTS]).select_related(
                "resident__home_region"
            )
        }
        if not users:
            self.stdout.write("demo_logins: no demo accounts in this database (run manage.py seed_demo first).")
            return
        self.stdout.write(f"Demo logins — password for every account: {DEMO_PASSWORD}")
        self.stdout.write("Log in with the phone number (11 digits) as the login name.")
        width = max(len(a.role) for a in DEMO_ACCOUNTS)
        for account in DEMO_ACCOUNTS:
            user = users.get(account.phone)
            if user is None:
                status, where, name = "(missing)", "", account.name
            else:
                status = "" if user.check_password(DEMO_PASSWORD) else "(password changed)"
                where, name = _where(user), user.first_name
            self.stdout.write(f"  {account.role:<{width}}  {account.phone}  {name:<4}  {where} {status}".rstrip())
        self.stdout.write(
            "Every town also has a town admin 138000010NN and a social worker 138000020NN "
            "(NN = 01…23 in town-code order); demo_logins --all lists them."
        )
        secret = b32encode(bytes.fromhex(DEMO_TOTP_KEY_HEX)).decode()
        self.stdout.write(
            f"Town admins and the city supervisor then type a code from an authenticator app with the key {secret} "
            "(or run: manage.py demo_logins --code)."
        )
        if options["all"]:
            rows = (
                StaffRole.objects.filter(user__username__startswith=RESERVED_PREFIXES[0])
                .select_related("user", "region", "site")
                .order_by("user__username")
            )
            for role in rows:
                place = role.site.name if role.site else role.region.name
                self.stdout.write(f"  {role.user.username}  {role.get_role_display()}  {role.user.first_name}  {place}")
