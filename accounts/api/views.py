"""Auth and profile endpoints. Thin: parse, call one service, serialize."""

import contextlib
import time

from django.conf import settings
from django.contrib.auth import authenticate
from django.http import FileResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.serializers import TokenRefreshSerializer as JWTRefreshSerializer
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import RefreshToken

from accounts import selectors, services, throttles
from accounts.api import serializers as s
from accounts.api.cookies import clear_auth_cookies, set_auth_cookies, set_device_cookie
from accounts.api.guards import JSONOnlyAuthEndpoint
from accounts.authentication import enforce_csrf
from accounts.models import IdentityDocument
from accounts.tokens import access_token_deny, issue_ws_ticket, revoke_ws_tickets
from core.api.openapi import ErrorResponseSerializer
from core.api.parsers import JSONParser, MultiPartParser
from notifications.preferences import email_preferences_set

UNAUTHORIZED = {401: ErrorResponseSerializer}  # invalid_credentials, token_not_valid


class InvalidCredentials(exceptions.AuthenticationFailed):
    default_code = "invalid_credentials"
    default_detail = "Email or password is incorrect."


class _ChallengesWithBearer:
    """For views that authenticate nobody (``authentication_classes = []``).

    DRF turns a 401 into a 403 when a view has no authenticator to name in
    ``WWW-Authenticate``; bad credentials and bad refresh tokens must stay 401.
    """

    def get_authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'


class RegisterView(JSONOnlyAuthEndpoint, APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [throttles.RegisterIPThrottle]

    @extend_schema(request=s.RegisterSerializer, responses={201: s.UserSerializer}, tags=["auth"])
    def post(self, request):
        data = _valid(s.RegisterSerializer, request)
        user = services.user_register(**data)
        return Response(s.UserSerializer(user).data, status=status.HTTP_201_CREATED)


class VerifyEmailView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(request=s.TokenSerializer, responses={200: s.UserSerializer}, tags=["auth"])
    def post(self, request):
        data = _valid(s.TokenSerializer, request)
        user = services.user_verify_email(token=data["token"])
        return Response(s.UserSerializer(user).data)


class ResendVerificationView(APIView):
    @extend_schema(request=None, responses={202: None}, tags=["auth"])
    def post(self, request):
        services.user_request_verification_email(user=request.user)
        return Response(status=status.HTTP_202_ACCEPTED)


class TokenObtainView(JSONOnlyAuthEndpoint, _ChallengesWithBearer, APIView):
    """Log in: returns the token pair and sets them as httpOnly cookies."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [throttles.LoginIPThrottle, throttles.LoginEmailThrottle]

    @extend_schema(
        request=s.TokenObtainSerializer,
        responses={200: s.TokenPairSerializer, **UNAUTHORIZED},
        tags=["auth"],
    )
    def post(self, request):
        data = _valid(s.TokenObtainSerializer, request)
        user = authenticate(request, email=data["email"], password=data["password"])
        if user is None:
            raise InvalidCredentials()
        services.user_record_login(user=user)
        refresh = RefreshToken.for_user(user)
        body = {
            "access": str(refresh.access_token),
            "refresh": str(refresh),
            "user": s.UserSerializer(user).data,
        }
        response = Response(body)
        set_auth_cookies(request, response, access=body["access"], refresh=body["refresh"])
        set_device_cookie(response, email=user.email)
        return response


def _refresh_token_from(request) -> str:
    """The refresh token from the body, or from the cookie (then CSRF applies)."""
    data = _valid(s.TokenRefreshSerializer, request)
    if data.get("refresh"):
        return data["refresh"]
    cookie = request.COOKIES.get(settings.JWT_REFRESH_COOKIE)
    if not cookie:
        raise exceptions.NotAuthenticated("No refresh token was given.")
    enforce_csrf(request._request)
    return cookie


class TokenRefreshView(JSONOnlyAuthEndpoint, _ChallengesWithBearer, APIView):
    """Rotate: a new pair for a valid refresh token, which is then blacklisted."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(
        request=s.TokenRefreshSerializer,
        responses={200: s.TokenPairSerializer, **UNAUTHORIZED},
        tags=["auth"],
    )
    def post(self, request):
        serializer = JWTRefreshSerializer(data={"refresh": _refresh_token_from(request)})
        try:
            serializer.is_valid(raise_exception=True)
        except TokenError as exc:
            raise exceptions.AuthenticationFailed(str(exc), code="token_not_valid") from exc
        except serializers.ValidationError as exc:
            raise exceptions.AuthenticationFailed(
                "Token is invalid or expired.", code="token_not_valid"
            ) from exc
        body = {"access": serializer.validated_data["access"]}
        body["refresh"] = serializer.validated_data.get("refresh", "")
        response = Response(body)
        set_auth_cookies(request, response, access=body["access"], refresh=body["refresh"])
        return response


def _access_token_from(request) -> str | None:
    """The access token of the request: the Bearer header, or the cookie (then CSRF
    applies, as for every cookie-authenticated write)."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    cookie = request.COOKIES.get(settings.JWT_ACCESS_COOKIE)
    if cookie:
        enforce_csrf(request._request)
    return cookie or None


class LogoutView(_ChallengesWithBearer, APIView):
    """Blacklist the refresh token (if any), end the access token presented (if any: denied
    until it expires), revoke the user's socket tickets and clear the cookies. Always 204."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(request=s.TokenRefreshSerializer, responses={204: None}, tags=["auth"])
    def post(self, request):
        try:
            raw = _refresh_token_from(request)
        except exceptions.NotAuthenticated:
            raw = None
        if raw:
            with contextlib.suppress(TokenError):  # already invalid: nothing to revoke
                refresh = RefreshToken(raw)
                refresh.blacklist()
                revoke_ws_tickets(user_id=refresh[jwt_settings.USER_ID_CLAIM])
        access = _access_token_from(request)
        if access and (user_id := access_token_deny(access)) is not None:
            revoke_ws_tickets(user_id=user_id)
        response = Response(status=status.HTTP_204_NO_CONTENT)
        clear_auth_cookies(response)
        return response


class MeView(APIView):
    parser_classes = [JSONParser, MultiPartParser]  # multipart: a new ``avatar`` file

    @extend_schema(responses={200: s.UserSerializer}, tags=["auth"])
    def get(self, request):
        return Response(s.UserSerializer(request.user).data)

    @extend_schema(
        request={
            "application/json": s.ProfileJSONUpdateSerializer,
            "multipart/form-data": s.ProfileUpdateSerializer,
        },
        responses={
            200: s.UserSerializer,
            400: ErrorResponseSerializer,
            409: ErrorResponseSerializer,
        },
        description="Profile fields change at once. ``email`` (with the current ``password``) "
        "does not: a link goes to the new address and the answer shows it as "
        "``pending_email`` until the link is confirmed through ``auth/verify-email/``; the "
        "current address is told. An address another account uses is ``409 email_taken``; "
        "a wrong password ``400 invalid_password``.",
        tags=["auth"],
    )
    def patch(self, request):
        data = _valid(s.ProfileUpdateSerializer, request, partial=True)
        email, password = data.pop("email", None), data.pop("password", None)
        preferences = data.pop("email_preferences", None)
        user = request.user
        if preferences is not None:
            email_preferences_set(user=user, preferences=preferences)
        if email is not None:
            user = services.user_request_email_change(user=user, email=email, password=password)
        if data:
            user = services.user_update_profile(user=user, **data)
        return Response(s.UserSerializer(user).data)


class BecomeHostView(APIView):
    @extend_schema(request=None, responses={200: s.UserSerializer}, tags=["auth"])
    def post(self, request):
        user = services.user_become_host(user=request.user)
        return Response(s.UserSerializer(user).data)


class PasswordResetView(JSONOnlyAuthEndpoint, APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [throttles.PasswordResetIPThrottle, throttles.PasswordResetEmailThrottle]

    @extend_schema(request=s.EmailSerializer, responses={202: None}, tags=["auth"])
    def post(self, request):
        started = time.monotonic()
        data = _valid(s.EmailSerializer, request)
        services.password_reset_request(email=data["email"])
        # Where tasks run inside the request (the embedded default), the email for a known
        # address would make its answer slower: every answer takes at least this long.
        time.sleep(max(0.0, settings.PASSWORD_RESET_MIN_SECONDS - (time.monotonic() - started)))
        return Response(status=status.HTTP_202_ACCEPTED)


class PasswordResetConfirmView(JSONOnlyAuthEndpoint, APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [throttles.PasswordResetIPThrottle]

    @extend_schema(request=s.PasswordResetConfirmSerializer, responses={204: None}, tags=["auth"])
    def post(self, request):
        data = _valid(s.PasswordResetConfirmSerializer, request)
        services.password_reset_confirm(**data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class WsTicketView(APIView):
    throttle_classes = [throttles.WsTicketThrottle]

    @extend_schema(request=None, responses={201: s.WsTicketSerializer}, tags=["auth"])
    def post(self, request):
        ticket = issue_ws_ticket(user_id=request.user.pk)
        body = {"ticket": ticket, "expires_in": settings.WS_TICKET_TTL_SECONDS}
        return Response(body, status=status.HTTP_201_CREATED)


class DocumentListCreateView(generics.ListCreateAPIView):
    serializer_class = s.IdentityDocumentSerializer
    parser_classes = [MultiPartParser]  # the scan, field ``image``
    permission_classes = [IsAuthenticated]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return IdentityDocument.objects.none()
        return selectors.documents_for_user(user=self.request.user)

    @extend_schema(tags=["auth"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(request={"multipart/form-data": s.IdentityDocumentSerializer}, tags=["auth"])
    def post(self, request, *args, **kwargs):
        data = _valid(s.IdentityDocumentSerializer, request)
        document = services.document_submit(user=request.user, **data)
        return Response(s.IdentityDocumentSerializer(document).data, status=status.HTTP_201_CREATED)


class DocumentImageView(APIView):
    """The scan itself: only its owner (and staff, in the admin) may read it."""

    @extend_schema(
        responses={(200, "image/*"): OpenApiResponse(description="The uploaded image")},
        tags=["auth"],
    )
    def get(self, request, pk: int):
        document = selectors.document_get_for_owner(user=request.user, pk=pk)
        response = FileResponse(document.image.open("rb"), content_type="application/octet-stream")
        response["Content-Disposition"] = "attachment"
        response["Cache-Control"] = "private, no-store"
        return response


def _valid(serializer_class, request, **kwargs) -> dict:
    serializer = serializer_class(data=request.data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)
