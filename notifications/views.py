"""The page an unsubscribe link opens (notifications/unsubscribe.py makes the links)."""

from django.contrib.auth import get_user_model
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from notifications import unsubscribe
from notifications.services import preference_set


@csrf_exempt  # the token is the authority; mail providers post without cookies
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe_view(request, value: str):
    found = unsubscribe.read(value)
    user = get_user_model().objects.filter(pk=found[0]).first() if found else None
    if user is None:
        return render(request, "notifications/unsubscribe.html", {"invalid": True}, status=404)
    words = unsubscribe.KIND_WORDS.get(found[1], found[1])
    if request.method == "POST":
        preference_set(user=user, kind=found[1], email=False)
        return render(request, "notifications/unsubscribe.html", {"done": True, "words": words})
    return render(request, "notifications/unsubscribe.html", {"words": words, "email": user.email})
