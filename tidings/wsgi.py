import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tidings.settings")
application = get_wsgi_application()

from tidings.conf import require_keys  # noqa: E402 (settings must be configured first)

# Refuse to start without keys: every request would fail otherwise.
require_keys()
