"""Parley project configuration: settings, URLs, ASGI/WSGI entry points, Celery app."""

from config.celery_app import app as celery_app

__all__ = ("celery_app",)
