from django.urls import path

from . import views
from .excel.urls import urlpatterns as excel_urlpatterns

app_name = "submissions"

urlpatterns = [
    path("city/", views.city_home, name="home"),
    path("city/form/", views.city_form, name="form"),
    path("submissions/<int:pk>/", views.submission_detail, name="detail"),
    path("submissions/<int:pk>/edit/", views.submission_edit, name="edit"),
    path("attachments/<int:pk>/", views.attachment_download, name="attachment"),
    *excel_urlpatterns,
]
