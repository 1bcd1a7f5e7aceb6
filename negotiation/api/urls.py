from django.urls import path

from negotiation.api import views

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
]
