"""Page routes of the Excel templates, part of the `submissions` namespace."""

from django.urls import path

from . import views

urlpatterns = [
    path("submissions/<int:pk>/excel/", views.city_excel, name="excel"),
    path("submissions/<int:pk>/excel/template.xlsx", views.city_template_download, name="excel_template"),
    path("province/excel/", views.province_excel, name="province_excel"),
    path("province/excel/workbook.xlsx", views.province_workbook_download, name="province_workbook"),
]
