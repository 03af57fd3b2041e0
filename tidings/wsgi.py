import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tidings.settings")
django_application = get_wsgi_application()

from django.urls import get_resolver  # noqa: E402

from tidings.conf import require_keys  # noqa: E402 (settings must be configured first)
from tidings.tracking.collect.front import make_application  # noqa: E402

# Refuse to start without keys: every request would fail otherwise.
require_keys()

# Load the URLconf now rather than in the first request (importing the API's schemas takes seconds: a click
# on an email link, the first request of a fresh process, waited for it before its campaign step could wake).
get_resolver().url_patterns  # noqa: B018

# The tracking paths (/t/collect, /t/p.gif, Mautic's /m/<slug>/mtc...) are served by a lean front
# that skips Django's middleware; everything else goes to Django (docs/decisions/0019).
application = make_application(django_application)
