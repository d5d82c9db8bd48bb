"""URLs of the protection groups panel."""
from django.urls import re_path

from protector_dashboard.content.protection_groups import peer
from protector_dashboard.content.protection_groups import views

GROUP = r"^(?P<group_id>[^/]+)/"

urlpatterns = [
    re_path(r"^$", views.IndexView.as_view(), name="index"),
    re_path(r"^create/$", views.CreateView.as_view(), name="create"),
    # Before GROUP, which would take "peer" for a group's ID.
    re_path(r"^peer/$", peer.PeerSignInView.as_view(),
            name="peer_sign_in"),
    re_path(r"^peer/sign-out/$", peer.PeerSignOutView.as_view(),
            name="peer_sign_out"),
    re_path(GROUP + r"$", views.DetailView.as_view(), name="detail"),
    re_path(GROUP + r"update/$", views.UpdateView.as_view(),
            name="update"),
    re_path(GROUP + r"add_member/$", views.AddMemberView.as_view(),
            name="add_member"),
    re_path(GROUP + r"policy/$", views.SetPolicyView.as_view(),
            name="set_policy"),
    re_path(GROUP + r"action/(?P<action>[a-z_]+)/$",
            views.DRActionView.as_view(), name="dr_action"),
]
