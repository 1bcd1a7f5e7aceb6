from django.apps import AppConfig


class NegotiationConfig(AppConfig):
    name = "negotiation"
