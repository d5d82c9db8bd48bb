"""URLs of the DR operations panel."""
from django.urls import re_path

from protector_dashboard.content.operations import views

urlpatterns = [
    re_path(r"^$", views.IndexView.as_view(), name="index"),
    re_path(r"^(?P<operation_id>[^/]+)/$", views.DetailView.as_view(),
            name="detail"),
]
