from django.urls import path

from . import operator_views, print_views, views
from .excel.urls import urlpatterns as excel_urlpatterns

app_name = "submissions"

urlpatterns = [
    path("city/", views.city_home, name="home"),
    path("city/form/", views.city_form, name="form"),
    path("submissions/<int:pk>/", views.submission_detail, name="detail"),
    path("submissions/<int:pk>/edit/", views.submission_edit, name="edit"),
    path("attachments/<int:pk>/", views.attachment_download, name="attachment"),
    path("submissions/<int:pk>/print/", print_views.submission_print, name="print"),
    path("submissions/<int:pk>/form.pdf", print_views.submission_pdf, name="pdf"),
    path("submissions/<int:pk>/cover-letter/", print_views.cover_letter, name="cover_letter"),
    path("operators/figures/", operator_views.figures, name="operator_figures"),
    path("operators/figures/workbook.xlsx", operator_views.workbook, name="operator_workbook"),
    path("operators/figures/excel/", operator_views.excel, name="operator_excel"),
    *excel_urlpatterns,
]
