"""API views of the foundation: the scoped base of every viewset, token login and the cities the
caller may see."""

from django.conf import settings
from django.contrib.auth import authenticate
from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from .audit import audit_reason, audit_record
from .authentication import token_cutoff
from .models import AuditKind, City
from .serializers import CitySerializer


class ScopedViewSet(viewsets.GenericViewSet):
    """The base of every API viewset: each queryset starts from `visible_to(user)` of its model, so
    an object outside the caller's scope is not found (404), never fetched and then refused.
    Subclasses give `queryset` with their joins and order; the scope is applied here."""

    lookup_value_regex = r"[0-9]{1,18}"  # ids; longer numbers are no id of ours (and overflow bigint)

    def get_queryset(self):
        return super().get_queryset().visible_to(self.request.user)


class CityFilter(filters.FilterSet):
    province = filters.CharFilter(field_name="province_id")
    name = filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = City
        fields = ["province", "kind", "name"]


class CityViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Cities (prefecture-level units) in the caller's scope, by 6-digit administrative code."""

    serializer_class = CitySerializer
    queryset = City.objects.select_related("province")
    filterset_class = CityFilter
    lookup_field = "code"
    lookup_value_regex = r"\d{6}"


class LoginThrottle(ScopedRateThrottle):
    scope_attr = "throttle_scope"


@extend_schema(
    request=inline_serializer(
        "TokenRequest", {"username": serializers.CharField(), "password": serializers.CharField()}
    ),
    responses={
        200: inline_serializer("TokenResponse", {"token": serializers.CharField()}),
        400: OpenApiResponse(
            description="A field is missing (`errors`), or a wrong username or password (`authentication_failed`)"
        ),
        429: OpenApiResponse(
            inline_serializer("LockoutResponse", {"detail": serializers.CharField(), "code": serializers.CharField()}),
            description="Too many failed logins: for this account from this address (`locked_out`), or for "
            "different accounts from this address (`address_locked_out`); `Retry-After` says how many seconds "
            "at most. Also too many requests (`throttled`).",
        ),
    },
    summary="Exchange a username and password for an API token",
)
class TokenLoginView(APIView):
    """POST username and password, get {"token": ...}. Guarded by the same lockout as the login page
    (django-axes sees this authenticate() call)."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [LoginThrottle]
    throttle_scope = "login"

    class Input(serializers.Serializer):
        username = serializers.CharField(max_length=150)
        password = serializers.CharField(max_length=256, trim_whitespace=False)

    def post(self, request):
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        # django-axes sees this call; once locked out, its middleware answers 429 (gigacity.views.lockout).
        user = authenticate(request._request, **data.validated_data)
        if user is None or not user.is_active:
            return Response(
                {"detail": _("Wrong username or password."), "code": "authentication_failed"},
                status=status.HTTP_400_BAD_REQUEST,
            )
        with audit_reason("expired"):
            Token.objects.filter(user=user, created__lt=token_cutoff()).delete()  # an expired one is replaced
        token, _created = Token.objects.get_or_create(user=user)
        # No session and so no user_logged_in signal: the trail records the API sign-in here.
        audit_record(kind=AuditKind.LOGIN, actor=user, request=request, details={"via": "api"})
        return Response({"token": token.key})


def lockout_minutes() -> int:
    return int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
