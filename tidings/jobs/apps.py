from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "tidings.jobs"
    label = "jobs"
