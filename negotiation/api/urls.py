from django.urls import path

from negotiation.api import lifecycle_views, reporting_views, views

n = "negotiations/<int:pk>/"
urlpatterns = [
    path("negotiations/", views.NegotiationListCreateView.as_view(), name="negotiation-list"),
    path(n, views.NegotiationDetailView.as_view(), name="negotiation-detail"),
    path(n + "events/", views.NegotiationEventsView.as_view(), name="negotiation-events"),
    path(n + "offers/", views.OfferView.as_view(), name="negotiation-offer"),
    path(n + "accept/", views.AcceptView.as_view(), name="negotiation-accept"),
    path(n + "decline/", views.DeclineView.as_view(), name="negotiation-decline"),
    path(n + "withdraw/", views.WithdrawView.as_view(), name="negotiation-withdraw"),
    path(n + "messages/", views.MessageView.as_view(), name="negotiation-messages"),
    path(n + "read/", views.ReadView.as_view(), name="negotiation-read"),
    # negotiation.lifecycle: what ends everything a listing or a person has running
    path(
        "properties/<int:pk>/",
        lifecycle_views.PropertyDetailView.as_view(),
        name="property-detail",
    ),
    path("auth/me/close/", lifecycle_views.CloseAccountView.as_view(), name="auth-me-close"),
    # negotiation.reporting: figures that compose bookings' with negotiations'
    path("host/analytics/", reporting_views.HostAnalyticsView.as_view(), name="host-analytics"),
]
