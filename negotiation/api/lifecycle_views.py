"""Endpoints of negotiation.lifecycle: archiving a listing and closing an account. They
keep the paths they always had (``properties/<id>/`` and ``auth/me/close/``)."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.cookies import clear_auth_cookies
from accounts.api.guards import JSONOnlyAuthEndpoint
from core.api.openapi import ErrorResponseSerializer
from core.api.views import validated
from negotiation import lifecycle
from negotiation.api import lifecycle_serializers as s
from properties import selectors as property_selectors
from properties.api.views import PropertyDetailView as ListingView


# A listing: read and edit it (properties), or archive it (DELETE), which ends what it has
# running. (A comment, not a docstring: the schema would show a docstring as the
# operations' description.)
class PropertyDetailView(ListingView):
    @extend_schema(responses={204: None}, tags=["properties"])
    def delete(self, request, pk: int):
        prop = property_selectors.property_get_owned(user=request.user, property_id=pk)
        lifecycle.property_archive(prop=prop)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CloseAccountView(JSONOnlyAuthEndpoint, APIView):
    """Close the account: first without ``confirm`` to see what happens, then with it."""

    @extend_schema(
        request=s.CloseAccountSerializer,
        responses={
            200: s.CloseAccountResultSerializer,
            400: ErrorResponseSerializer,
            409: ErrorResponseSerializer,
        },
        description="With the current ``password``. Without ``confirm: true`` nothing "
        "changes: the answer lists the open negotiations that will end, the held bookings "
        "that will be released, the upcoming stays that will be cancelled with the refund "
        "each gets under its policy, and the listings that will be archived "
        "(``closed: false``). With ``confirm: true`` that is done, the account is "
        "deactivated, its personal data erased and every session and socket ticket ended; "
        "the auth cookies are cleared (``closed: true``, the refunds actually issued). A "
        "host with confirmed stays ahead gets ``409 has_upcoming_stays`` (with their ids) "
        "until they cancel them. A wrong password is ``400 invalid_password``.",
        tags=["auth"],
    )
    def post(self, request):
        data = validated(s.CloseAccountSerializer, request.data)
        result = lifecycle.user_close(user=request.user, **data)
        response = Response(s.CloseAccountResultSerializer(result).data)
        if result["closed"]:
            clear_auth_cookies(response)
        return response
