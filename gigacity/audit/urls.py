from django.urls import path

from . import views

app_name = "audit"

urlpatterns = [
    path("security/audit/", views.audit_trail, name="trail"),
    path("security/audit/export.xlsx", views.audit_export, name="export"),
]
