from django.apps import AppConfig


class AnnotationsConfig(AppConfig):
    name = "annotations"
    verbose_name = "Annotations"

    def ready(self) -> None:
        from annotations.services import body_lock_while_spanned
        from articles.services import register_body_lock

        register_body_lock(body_lock_while_spanned)
