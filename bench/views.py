"""The floor: the cheapest page an authenticated person can ask this app for."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.views.decorators.http import require_GET


@require_GET
@login_required
def floor(request):
    """Everything every page pays (the whole middleware stack: session read and save, the user, CSRF,
    CSP, django-axes, the session lifetime check) and nothing else: no template, no query of its
    own. Each page's time is divided by this one's, measured on the same server in the same run.

    It lives in the benchmark's URLconf only: in production it would be a route that does nothing,
    one more row for the permission matrix, and no use to anybody."""
    return HttpResponse("ok", content_type="text/plain")
