from django.urls import path

from notifications.api import views

urlpatterns = [
    path("notifications/", views.NotificationListView.as_view(), name="notification-list"),
    path("notifications/read/", views.MarkReadView.as_view(), name="notification-read"),
    path(
        "notifications/preferences/",
        views.PreferenceListView.as_view(),
        name="notification-preferences",
    ),
]
