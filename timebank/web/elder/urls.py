from django.urls import path

from . import views

app_name = "elder"

urlpatterns = [
    path("", views.index, name="index"),
]
