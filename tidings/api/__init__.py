"""The native REST API (/api/v1/), API tokens, OAuth2 applications, and the authentication both APIs share.

To add endpoints from another app, see the docstring of tidings.api.api; for list endpoints,
tidings.api.pagination; for errors, tidings.api.errors; for the Mautic-compatible surface,
tidings.mautic_compat.decorators.
"""
