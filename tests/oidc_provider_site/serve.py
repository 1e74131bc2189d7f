"""Start the test provider: `python -m tests.oidc_provider_site.serve PORT` with
OIDC_TEST_PROVIDER_DIR set to an empty folder. Migrates its SQLite file, makes a signing key,
then serves on 127.0.0.1:PORT until stopped."""

import os
import sys

os.environ["DJANGO_SETTINGS_MODULE"] = "tests.oidc_provider_site.settings"

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from oidc_provider.models import RSAKey  # noqa: E402

call_command("migrate", verbosity=0)
if not RSAKey.objects.exists():
    call_command("creatersakey")
call_command("runserver", f"127.0.0.1:{sys.argv[1]}", use_reloader=False, skip_checks=True)
