"""The site's URLs: pages of each app, the JSON API under /api/v1/, the schema and the admin."""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from django.views.i18n import set_language
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from reviews import checks_api
from reviews.api import (
    ExportJobViewSet,
    NationalDashboardApi,
    NationalDashboardExportApi,
    NationalProgressApi,
    NationalProgressExportApi,
    NationalQualityApi,
    NationalQualityExportApi,
    ProvinceDashboardApi,
    ProvinceDashboardExportApi,
    ProvinceProgressApi,
    ProvinceProgressExportApi,
    ProvinceQualityApi,
    ProvinceQualityExportApi,
    RoundCountsViewSet,
    SummaryExportApi,
    WatchExportApi,
    WatchListApi,
    WhatIfApi,
    action_urls,
)
from submissions.api import AttachmentViewSet, ProvinceImportView, ProvinceWorkbookView, SubmissionViewSet
from submissions.api.documents import CoverLetterView, SubmissionPdfView
from submissions.api.operators import (
    OperatorFiguresApi,
    OperatorImportApi,
    OperatorListApi,
    OperatorWorkbookApi,
    ToleranceApi,
)

from . import views
from .viewsets import CityViewSet, TokenLoginView

router = SimpleRouter()
router.register("rounds", RoundCountsViewSet, basename="round")
router.register("cities", CityViewSet, basename="city")
router.register("submissions", SubmissionViewSet, basename="submission")
router.register("attachments", AttachmentViewSet, basename="attachment")
router.register("exports", ExportJobViewSet, basename="export")
checks_api.register(router)  # evidence requests and sample checks (issue 13)

api_v1 = [
    path("auth/token/", TokenLoginView.as_view(), name="token"),
    re_path(r"^rounds/(?P<year>[0-9]{4})/what-if/$", WhatIfApi.as_view(), name="round-what-if"),
    path("dashboard/national/", NationalDashboardApi.as_view(), name="dashboard-national"),
    path("dashboard/province/<str:code>/", ProvinceDashboardApi.as_view(), name="dashboard-province"),
    path("progress/national/", NationalProgressApi.as_view(), name="progress-national"),
    path("progress/province/<str:code>/", ProvinceProgressApi.as_view(), name="progress-province"),
    path("data-quality/national/", NationalQualityApi.as_view(), name="data-quality-national"),
    path("data-quality/province/<str:code>/", ProvinceQualityApi.as_view(), name="data-quality-province"),
    path("exports/progress/national.xlsx", NationalProgressExportApi.as_view(), name="export-progress-national"),
    path(
        "exports/progress/province/<str:code>.xlsx",
        ProvinceProgressExportApi.as_view(),
        name="export-progress-province",
    ),
    path("exports/data-quality/national.xlsx", NationalQualityExportApi.as_view(), name="export-quality-national"),
    path(
        "exports/data-quality/province/<str:code>.xlsx",
        ProvinceQualityExportApi.as_view(),
        name="export-quality-province",
    ),
    path("watch-list/", WatchListApi.as_view(), name="watch-list"),
    path("exports/summary.xlsx", SummaryExportApi.as_view(), name="export-summary"),
    path("exports/watch.xlsx", WatchExportApi.as_view(), name="export-watch"),
    path("exports/dashboard/national.xlsx", NationalDashboardExportApi.as_view(), name="export-dashboard-national"),
    path(
        "exports/dashboard/province/<str:code>.xlsx",
        ProvinceDashboardExportApi.as_view(),
        name="export-dashboard-province",
    ),
    # The public name has no trailing slash (PRODUCT.md), unlike the router's routes.
    re_path(
        r"^submissions/(?P<pk>[0-9]{1,18})/template.xlsx$",
        SubmissionViewSet.as_view({"get": "template"}),
        name="submission-template",
    ),
    re_path(r"^submissions/(?P<pk>[0-9]{1,18})/form.pdf$", SubmissionPdfView.as_view(), name="submission-pdf"),
    re_path(
        r"^submissions/(?P<pk>[0-9]{1,18})/cover-letter/$", CoverLetterView.as_view(), name="submission-cover-letter"
    ),
    path("operators/", OperatorListApi.as_view(), name="operator-list"),
    path("operator-figures/", OperatorFiguresApi.as_view(), name="operator-figures"),
    path("operator-figures/workbook.xlsx", OperatorWorkbookApi.as_view(), name="operator-workbook"),
    path("operator-figures/import/", OperatorImportApi.as_view(), name="operator-import"),
    re_path(r"^rounds/(?P<year>[0-9]{4})/tolerance/$", ToleranceApi.as_view(), name="round-tolerance"),
    path("provinces/<str:code>/workbook.xlsx", ProvinceWorkbookView.as_view(), name="province-workbook"),
    path("provinces/<str:code>/import/", ProvinceImportView.as_view(), name="province-import"),
    *action_urls(),
    *checks_api.urlpatterns,
    path("", include(router.urls)),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/change/", views.PasswordChangeView.as_view(), name="password_change"),
    path("password/reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("password/reset/sent/", views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path("password/reset/done/", views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("password/reset/<uidb64>/<token>/", views.PasswordResetConfirmView.as_view(), name="password_reset_confirm"),
    path("i18n/setlang/", set_language, name="set_language"),
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_v1, "api"))),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("", include("gigacity.audit.urls")),
    path("", include("submissions.urls")),
    path("", include("reviews.urls")),
]

handler400 = views.bad_request
handler403 = views.permission_denied
handler404 = views.page_not_found
handler500 = views.server_error

admin.site.site_header = settings.GIGACITY_SYSTEM_NAME
admin.site.site_title = settings.GIGACITY_SYSTEM_NAME
