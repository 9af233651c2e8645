"""``manage.py api_token_create --phone 13800138000 --name "partner sync" --scopes read,write``"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from timebank.api.services import token_create
from timebank.common.errors import DomainError
from timebank.people.models import User
from timebank.people.services import login_name_for_phone


class Command(BaseCommand):
    help = "Create a personal API token for a user (by phone). The token is printed once and never stored."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--phone", required=True, help="the user's phone number (their login name)")
        parser.add_argument("--name", required=True, help="what the token is for")
        parser.add_argument("--scopes", default="read", help="comma-separated: read, write, ledger")
        parser.add_argument("--days", type=int, default=None, help="expires after this many days (default: never)")

    def handle(self, *args: Any, **options: Any) -> None:
        phone = options["phone"]
        try:
            username = login_name_for_phone(phone)
        except DomainError:
            username = phone
        user = User.objects.filter(username=username).first() or User.objects.filter(username=phone).first()
        if user is None:
            raise CommandError(f"no user with phone {phone}")
        try:
            issued = token_create(
                user=user, name=options["name"], scopes=options["scopes"].split(","), expires_in_days=options["days"]
            )
        except DomainError as exc:
            raise CommandError(exc.text) from exc
        expiry = issued.token.expires_at.date().isoformat() if issued.token.expires_at else "never"
        self.stdout.write(
            f"token {issued.token.prefix} for {user.username} ({', '.join(issued.token.scopes)}), expires {expiry}:"
        )
        self.stdout.write(issued.secret)
        self.stderr.write("Keep it safe: it is shown only now.")
