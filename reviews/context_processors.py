"""What the base template needs on every page: the navigation of the user's role and the number of
unread notifications."""

from __future__ import annotations

from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from gigacity.audit.access import may_browse_audit
from gigacity.models import Role

from .models import Notification

NAV_BY_ROLE: dict[str, list[tuple[str, str]]] = {
    Role.CITY: [("submissions:home", _("My survey forms"))],
    Role.BUREAU: [
        ("reviews:bureau_home", _("Review queue")),
        ("reviews:my_province_dashboard", _("Provincial overview")),
        ("reviews:exports", _("Exports")),
    ],
    Role.MINISTRY: [
        ("reviews:ministry_home", _("National overview")),
        ("reviews:ministry_queue", _("Review queue")),
        ("reviews:rounds", _("Rounds and thresholds")),
        ("reviews:samples", _("Sample checks")),
        ("reviews:exports", _("Exports")),
    ],
    Role.ADMIN: [("admin:index", _("Administration"))],
}


def navigation(request):
    context = {"system_name": settings.GIGACITY_SYSTEM_NAME}
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return context
    items = []
    entries = list(NAV_BY_ROLE.get(user.role, []))
    if may_browse_audit(user):  # the security officer's permission, on top of the role
        entries.append(("audit:trail", _("Security audit")))
    for url_name, label in entries:
        try:
            items.append({"url": reverse(url_name), "label": label, "active": False})
        except NoReverseMatch:
            continue
    # The most specific page that contains the current one is the active item.
    matching = [item for item in items if request.path.startswith(item["url"])]
    if matching:
        max(matching, key=lambda item: len(item["url"]))["active"] = True
    context.update(
        nav=items,
        unread_count=Notification.unread_count(user),
        notifications_url=reverse("reviews:notifications"),
    )
    return context
