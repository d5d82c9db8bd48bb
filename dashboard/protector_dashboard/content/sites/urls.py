"""URLs of the sites panel."""
from django.urls import re_path

from protector_dashboard.content.sites import views

urlpatterns = [
    re_path(r"^$", views.IndexView.as_view(), name="index"),
    re_path(r"^register/$", views.RegisterView.as_view(), name="register"),
]
