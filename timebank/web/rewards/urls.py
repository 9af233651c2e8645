from django.urls import path

from . import views

app_name = "rewards"

urlpatterns = [
    path("", views.index, name="index"),
    path("people/<int:pk>/", views.person, name="person"),
    path("people/<int:pk>/honour/", views.honour_new, name="honour_new"),
    path("people/<int:pk>/entitlement/", views.entitlement_new, name="entitlement_new"),
    path("honours/<int:pk>/withdraw/", views.honour_withdraw, name="honour_withdraw"),
    path("entitlements/", views.entitlements, name="entitlements"),
    path("entitlements/<int:pk>/revoke/", views.entitlement_revoke, name="entitlement_revoke"),
    path("falsify/visit/<int:pk>/", views.falsify_visit, name="falsify_visit"),
    path("falsify/transfer/<int:pk>/", views.falsify_transfer, name="falsify_transfer"),
    path("falsify/batch/<int:pk>/", views.falsify_batch, name="falsify_batch"),
    path("teams/", views.teams, name="teams"),
    path("teams/<int:pk>/", views.team, name="team"),
    path("bars/", views.bars, name="bars"),
]
