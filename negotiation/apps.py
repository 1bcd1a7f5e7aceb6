from django.apps import AppConfig


class NegotiationConfig(AppConfig):
    name = "negotiation"

    def ready(self) -> None:
        # Models may be imported once the app registry is ready, hence here.
        from bookings import dates_taken
        from negotiation.holds import OpenNegotiations
        from negotiation.services import negotiations_mark_unavailable
        from properties import holds

        holds.register_deal_source("negotiation", OpenNegotiations())
        # a booking that takes dates ends the other open negotiations over them
        dates_taken.listen(negotiations_mark_unavailable)
