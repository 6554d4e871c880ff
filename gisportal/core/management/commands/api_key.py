"""`gisportal api-key create USERNAME --name NAME [--days N]` | `list [--user USERNAME]` | `revoke PREFIX`."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from gisportal.core.actions import api_key_create, api_key_revoke
from gisportal.core.errors import GisportalError
from gisportal.core.models import ApiKey


class Command(BaseCommand):
    help = "API keys of offices' systems: create (the key is printed once), list, revoke."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a key for an account and print it once")
        create.add_argument("username")
        create.add_argument("--name", required=True, help="what the key is for, e.g. the calling system")
        create.add_argument(
            "--days", type=int, default=None, help="valid for this many days (default: until revoked)"
        )
        listing = sub.add_parser("list", help="list keys (prefixes only; keys are stored hashed)")
        listing.add_argument("--user", default=None, help="only this account's keys")
        revoke = sub.add_parser("revoke", help="revoke a key by its prefix (the 8 characters after gp_)")
        revoke.add_argument("prefix")

    def handle(self, *args, action, **options):
        try:
            return getattr(self, "_" + action)(**options)
        except GisportalError as e:
            raise CommandError(str(e.message)) from None

    def _create(self, username, name, days, **_options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"There is no account {username!r}.")
        if days is not None and days < 1:
            raise CommandError("--days must be at least 1.")
        expires = timezone.now() + timedelta(days=days) if days else None
        key, raw = api_key_create(user, name, expires_at=expires)
        self.stdout.write(raw)
        self.stderr.write(
            f"API key gp_{key.prefix}… for {user.username} ({key.name}) created. Store it now: it is "
            "stored only hashed and cannot be shown again. Send it as 'Authorization: Bearer <key>'."
        )

    def _list(self, user, **_options):
        keys = ApiKey.objects.select_related("user")
        if user:
            keys = keys.filter(user__username=user)
        now = timezone.now()
        for k in keys:
            state = (
                "revoked" if k.revoked_at else "expired" if k.expires_at and k.expires_at <= now else "active"
            )
            self.stdout.write(
                f"gp_{k.prefix}  {state:<8} {k.user.username:<20} {k.name:<30} "
                f"created {k.created_at:%Y-%m-%d %H:%M}  "
                f"last used {f'{k.last_used_at:%Y-%m-%d %H:%M}' if k.last_used_at else '-'}  "
                f"expires {f'{k.expires_at:%Y-%m-%d}' if k.expires_at else '-'}"
            )

    def _revoke(self, prefix, **_options):
        key = api_key_revoke(prefix)
        self.stdout.write(
            f"API key gp_{key.prefix}… of {key.user.username} ({key.name}) revoked at {key.revoked_at:%Y-%m-%d %H:%M}."
        )
