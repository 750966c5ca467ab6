from django.urls import path

from . import checks_views, public_views, views

app_name = "reviews"

urlpatterns = [
    path("bureau/", views.bureau_home, name="bureau_home"),
    path("bureau/bulk/", views.bureau_bulk, name="bureau_bulk"),
    path("bureau/cities/<str:code>/start/", views.bureau_start, name="bureau_start"),
    path("bureau/extensions/<str:code>/", views.extension_new, name="extension_new"),
    path("submissions/<int:pk>/act/<str:action>/", views.submission_act, name="act"),
    path("ministry/queue/", views.ministry_queue_page, name="ministry_queue"),
    path("ministry/queue/bulk/", views.ministry_bulk, name="ministry_bulk"),
    path("ministry/rounds/", views.rounds_page, name="rounds"),
    path("ministry/rounds/next/", views.round_next, name="round_next"),
    path("ministry/rounds/<int:year>/", views.round_page, name="round"),
    path("ministry/watch/", views.watch_page, name="watch"),
    path("ministry/", views.ministry_home, name="ministry_home"),
    # Evidence requests (on the form's page) and sample checks (issue 13).
    path("submissions/<int:pk>/evidence/", checks_views.evidence_new, name="evidence_new"),
    path("evidence/<int:pk>/answer/", checks_views.evidence_answer, name="evidence_answer"),
    path("evidence/<int:pk>/<str:verb>/", checks_views.evidence_act, name="evidence_act"),
    path("checks/files/<int:pk>/", checks_views.check_file, name="check_file"),
    path("ministry/samples/", checks_views.samples_page, name="samples"),
    path("ministry/samples/<int:pk>/", checks_views.sample_page, name="sample"),
    path("ministry/samples/<int:pk>/export.xlsx", checks_views.sample_export, name="sample_export"),
    path("ministry/samples/items/<int:pk>/", checks_views.sample_item_page, name="sample_item"),
    path("ministry/reference-values/", views.reference_values, name="reference_values"),
    path("dashboard/province/", views.my_province_dashboard, name="my_province_dashboard"),
    path("dashboard/province/<str:code>/", views.province_dashboard, name="province_dashboard"),
    path("dashboard/data-quality/", views.data_quality, name="data_quality"),
    path("dashboard/data-quality/<str:code>/", views.data_quality_province, name="data_quality_province"),
    path("exports/", views.exports_page, name="exports"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/<int:pk>/", views.notification_open, name="notification_open"),
    path("notifications/read-all/", views.notifications_read_all, name="notifications_read_all"),
    # Public (no login): the published lists of Gigabit Cities, with their machine-readable copies.
    path("gigabit-cities/", public_views.public_rounds, name="public_rounds"),
    path("gigabit-cities/<int:year>/", public_views.public_list, name="public_list"),
    path("gigabit-cities/<int:year>/gigabit-cities.csv", public_views.public_csv, name="public_csv"),
    path("gigabit-cities/<int:year>/gigabit-cities.json", public_views.public_json, name="public_json"),
]
