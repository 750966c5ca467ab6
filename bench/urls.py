"""The benchmark's URLconf: the site's, plus the floor view."""

from django.urls import include, path

from . import views

urlpatterns = [
    path("bench/floor/", views.floor, name="bench-floor"),
    path("", include("gigacity.urls")),
]
