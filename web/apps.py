from django.apps import AppConfig


class WebConfig(AppConfig):
    """The browser client: one page, plain JavaScript, served by Django (issue 7)."""

    name = "web"
    label = "web"
    verbose_name = "Browser client"
