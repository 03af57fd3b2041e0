import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tidings.settings")
application = get_asgi_application()

from django.urls import get_resolver  # noqa: E402

from tidings.conf import require_keys  # noqa: E402 (settings must be configured first)

# Refuse to start without keys: every request would fail otherwise.
require_keys()

# Load the URLconf now rather than in the first request (importing the API's schemas takes seconds: a click
# on an email link, the first request of a fresh process, waited for it before its campaign step could wake).
get_resolver().url_patterns  # noqa: B018
