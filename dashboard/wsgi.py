import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
application = get_wsgi_application()

from dashboard.static_files import static_manifest_check  # noqa: E402  (needs the app registry)

static_manifest_check()

from dashboard.process import web_process_ready  # noqa: E402

web_process_ready()  # after loading: see its docstring (each gunicorn worker loads the app)
