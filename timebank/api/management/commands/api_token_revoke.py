"""``manage.py api_token_revoke --prefix ab12cd34``: revoke a personal API token at once (an operator's action)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from timebank.api.models import ApiToken
from timebank.api.services import token_revoke


class Command(BaseCommand):
    help = "Revoke a personal API token by its prefix (the part after tb_). It never authenticates again."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--prefix", required=True, help="the token's prefix, as printed when it was made")

    def handle(self, *args: Any, **options: Any) -> None:
        token = ApiToken.objects.filter(prefix=options["prefix"]).select_related("user").first()
        if token is None:
            raise CommandError(f"no token with prefix {options['prefix']}")
        # The operator acts as the token's owner: revoking is always allowed to them.
        token = token_revoke(actor=token.user, token=token)
        self.stdout.write(f"token {token.prefix} of {token.user.username} revoked at {token.revoked_at:%Y-%m-%d %H:%M}")
