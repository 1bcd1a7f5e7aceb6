from django.apps import AppConfig


class NegotiationConfig(AppConfig):
    name = "negotiation"

    def ready(self) -> None:
        # Models may be imported once the app registry is ready, hence here.
        from negotiation.holds import OpenNegotiations
        from properties import holds

        holds.register_deal_source("negotiation", OpenNegotiations())
