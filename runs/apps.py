from django.apps import AppConfig


class RunsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "runs"
    verbose_name = "Runs and deploys"

    def ready(self) -> None:
        from runs import stored_files

        stored_files.connect()
