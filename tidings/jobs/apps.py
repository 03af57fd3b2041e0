from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "tidings.jobs"
    label = "jobs"

    def ready(self) -> None:
        # Import every app's tasks module so its @periodic jobs are registered in each
        # process (web, worker, scheduler) before the scheduler looks at the registry.
        from django.utils.module_loading import autodiscover_modules

        autodiscover_modules("tasks")
