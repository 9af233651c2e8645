from django.urls import path

from . import views

app_name = "honours"

urlpatterns = [
    path("", views.roll_towns, name="index"),
    path("<str:code>/", views.roll_town, name="town"),
]
