"""Django's makemessages, also reading `_lazy("…")`: services/cases/states.py imports gettext_lazy under that
name (beside `_` = gettext), and xgettext knows only the usual names, so its texts would drop out of the
catalogue."""

from django.core.management.commands import makemessages


class Command(makemessages.Command):
    xgettext_options = [*makemessages.Command.xgettext_options, "--keyword=_lazy"]
