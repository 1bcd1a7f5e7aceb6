from django.apps import AppConfig


class PropertiesConfig(AppConfig):
    name = "properties"

    def ready(self) -> None:
        from accounts.management.commands.seed_demo import SEEDERS
        from properties.demo import seed_properties

        if seed_properties not in SEEDERS:
            SEEDERS.append(seed_properties)
