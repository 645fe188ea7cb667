from django.apps import AppConfig


class GradingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "grading"
    verbose_name = "Grading"

    def ready(self) -> None:
        # Messages written by the pure modules render in the reader's language (grading.engine.text).
        from django.utils.translation import gettext, ngettext

        from grading.engine import text

        text.use(gettext, ngettext)
