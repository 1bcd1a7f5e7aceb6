"""The project's URLs plus ``bench/plain/``: a plain Django JSON view, the baseline the
search benchmark compares the list endpoint's throughput with."""

from django.http import JsonResponse
from django.urls import path

from config.urls import handler400, handler403, handler404, handler500, urlpatterns

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]


def plain(request):
    return JsonResponse({"ok": True})


urlpatterns = [path("bench/plain/", plain, name="bench-plain"), *urlpatterns]
