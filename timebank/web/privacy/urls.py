from django.urls import path

from . import views

app_name = "privacy"

urlpatterns = [
    path("", views.mine, name="mine"),
    path("download/", views.download, name="download"),
    path("correct/", views.correct, name="correct"),
    path("leave/", views.leave, name="leave"),
    path("requests/", views.queue, name="queue"),
    path("requests/<int:pk>/", views.answer, name="answer"),
    path("departures/", views.departures, name="departures"),
    path("departures/<int:pk>/", views.departure_new, name="departure_new"),
]
