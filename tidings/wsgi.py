import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tidings.settings")
django_application = get_wsgi_application()

from tidings.conf import require_keys  # noqa: E402 (settings must be configured first)
from tidings.tracking.collect.front import make_application  # noqa: E402

# Refuse to start without keys: every request would fail otherwise.
require_keys()

# The tracking paths (/t/collect, /t/p.gif, Mautic's /m/<slug>/mtc...) are served by a lean front
# that skips Django's middleware; everything else goes to Django (docs/decisions/0019).
application = make_application(django_application)
