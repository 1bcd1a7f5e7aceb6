"""Small helpers shared by the thin DRF views of every app."""

from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404
from rest_framework.views import APIView


def validated(serializer_class, data, **kwargs) -> dict:
    """Validate ``data`` with ``serializer_class`` (400 in the API's shape) and return it."""
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class PartyActionView(APIView):
    """A POST that runs one service on an object the caller must be a party to.

    Services raise the model's ``DoesNotExist`` for non-parties; that is a 404, so an
    outsider cannot tell someone else's booking or negotiation from a missing one.
    """

    def act(self, request, pk: int):  # pragma: no cover - overridden
        raise NotImplementedError

    def post(self, request, pk: int):
        try:
            return self.act(request, pk)
        except ObjectDoesNotExist:
            raise Http404 from None
