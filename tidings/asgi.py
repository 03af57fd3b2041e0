import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tidings.settings")
application = get_asgi_application()

from tidings.conf import require_keys  # noqa: E402 (settings must be configured first)

# Refuse to start without keys: every request would fail otherwise.
require_keys()
