from django.urls import path

from . import views

app_name = "area"

urlpatterns = [
    path("", views.index, name="index"),
    path("policies/", views.policies, name="policies"),
    path("policies/<str:key>/", views.policy_edit, name="policy"),
]
