from django.urls import path

from timebank.certificates import views as certificate_views

from . import views

app_name = "volunteer"

urlpatterns = [
    path("", views.index, name="index"),
    path("needs/", views.needs, name="needs"),
    path("needs/<int:pk>/apply/", views.apply, name="apply"),
    path("schedule/", views.schedule, name="schedule"),
    path("visits/<int:pk>/", views.visit, name="visit"),
    path("visits/<int:pk>/check-in/", views.check_in, name="check_in"),
    path("visits/<int:pk>/check-out/", views.check_out, name="check_out"),
    path("visits/<int:pk>/decline/", views.decline, name="decline"),
    path("hours/", views.my_hours, name="hours"),
    path("stars/", views.stars, name="stars"),
    path("certificates/", views.certificates, name="certificates"),
    path("give/", views.give, name="give"),
    path("service-certificates/", certificate_views.volunteer_certificates, name="service_certificates"),
    path("service-certificates/<int:pk>/pdf/", certificate_views.volunteer_pdf, name="service_certificate_pdf"),
]
