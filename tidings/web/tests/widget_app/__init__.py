"""A test app that adds a dashboard widget from its AppConfig.ready(), as a domain app does."""
