from django.urls import path

from notifications.views import unsubscribe_view

urlpatterns = [
    path("unsubscribe/<str:value>", unsubscribe_view, name="email-unsubscribe"),
]
