"""The `gisportal` command: Django management commands (demo-data, import, ...) plus the usual ones."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gisportal.settings")
    from django.core.management import execute_from_command_line

    argv = list(sys.argv)
    # accept the hyphenated names the documentation uses (demo-data) as well as demo_data
    if len(argv) > 1 and not argv[1].startswith("-"):
        argv[1] = argv[1].replace("-", "_")
    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
