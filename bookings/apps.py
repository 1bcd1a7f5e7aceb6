from django.apps import AppConfig


class BookingsConfig(AppConfig):
    name = "bookings"

    def ready(self) -> None:
        # Models may be imported once the app registry is ready, hence here.
        from bookings.availability import BookingDates
        from properties import holds

        booking_dates = BookingDates()
        holds.register_date_holder("bookings", booking_dates)
        holds.register_deal_source("bookings", booking_dates)
