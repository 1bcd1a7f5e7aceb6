from django.urls import path

from web import views

app_name = "web"
urlpatterns = [
    path("", views.index, name="index"),
    path("verify-email", views.index, name="verify-email"),
    path("reset-password", views.index, name="reset-password"),
]
