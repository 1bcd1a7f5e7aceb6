from django.urls import path

from config.web import views

app_name = "web"
urlpatterns = [
    path("", views.index, name="index"),
    path("verify-email", views.index, name="verify-email"),
    path("reset-password", views.index, name="reset-password"),
]
