from django.urls import path

from . import views

app_name = "teams"

urlpatterns = [
    path("", views.index, name="index"),
    path("events/<int:pk>/join/", views.event_join, name="event_join"),
    path("projects/<int:pk>/join/", views.project_join, name="project_join"),
    path("team/<int:pk>/", views.team, name="team"),
    path("team/<int:pk>/members/", views.member_add, name="member_add"),
    path("members/<int:pk>/", views.member_change, name="member_change"),
    path("team/<int:pk>/projects/new/", views.project_new, name="project_new"),
    path("team/<int:pk>/events/new/", views.event_new, name="event_new"),
    path("projects/<int:pk>/", views.project, name="project"),
    path("events/<int:pk>/", views.event, name="event"),
    path("events/<int:pk>/sheet/", views.sheet, name="sheet"),
    path("competitions/", views.competitions, name="competitions"),
    path("competitions/<int:pk>/", views.competition, name="competition"),
    path("competitions/new/", views.competition_new, name="competition_new"),
    path("competitions/<int:pk>/nominate/", views.nominate, name="nominate"),
    path("competitions/<int:pk>/close/", views.competition_close, name="competition_close"),
    path("signups/<int:pk>/cancel/", views.event_cancel, name="event_cancel"),
]
