from django.urls import path

from . import views

app_name = "training"

urlpatterns = [
    path("", views.index, name="index"),
    path("sessions/<int:pk>/join/", views.join, name="join"),
    path("enrolments/<int:pk>/leave/", views.leave, name="leave"),
    path("staff/", views.staff, name="staff"),
    path("staff/sessions/new/", views.session_new, name="session_new"),
    path("staff/sessions/<int:pk>/", views.session_detail, name="session"),
    path("staff/sessions/<int:pk>/add/", views.session_add, name="session_add"),
    path("staff/sessions/<int:pk>/seats/", views.session_capacity, name="session_capacity"),
    path("staff/sessions/<int:pk>/cancel/", views.session_cancel, name="session_cancel"),
    path("staff/sessions/<int:pk>/attendance/", views.attendance, name="attendance"),
    path("staff/sessions/<int:pk>/results/", views.assessment, name="assessment"),
    path("staff/expiring/", views.expiring, name="expiring"),
    path("staff/targets/", views.targets, name="targets"),
    path("staff/courses/", views.courses, name="courses"),
    path("staff/courses/new/", views.course_new, name="course_new"),
    path("staff/courses/<int:pk>/offer/", views.course_offer, name="course_offer"),
]
