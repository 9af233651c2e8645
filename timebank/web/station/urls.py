from django.urls import path

from timebank.certificates import views as certificate_views

from . import views

app_name = "station"

urlpatterns = [
    path("", views.index, name="index"),
    path("residents/", views.resident_list, name="residents"),
    path("residents/new/", views.resident_new, name="resident_new"),
    path("residents/<int:pk>/", views.resident_detail, name="resident"),
    path("residents/<int:pk>/id-number/", views.resident_id_number, name="resident_id_number"),
    path("residents/<int:pk>/phone/", views.resident_phone, name="resident_phone"),
    path("residents/<int:pk>/card/", views.resident_card, name="resident_card"),
    path("residents/<int:pk>/need/", views.need_new, name="need_new"),
    path("needs/<int:pk>/", views.need_detail, name="need"),
    path("visits/<int:pk>/", views.visit_detail, name="visit"),
    path("disputes/<int:pk>/", views.dispute_detail, name="dispute"),
    path("dispatch/", views.dispatch_new, name="dispatch_new"),
    path("dispatch/<int:pk>/", views.dispatch_detail, name="dispatch"),
    path("dispatch/<int:pk>/rows/<int:row_pk>/", views.dispatch_row, name="dispatch_row"),
    path("dispatch/<int:pk>/accept/", views.dispatch_accept, name="dispatch_accept"),
    path("certificates/", certificate_views.station_certificates, name="certificates"),
    path("certificates/<int:pk>/pdf/", certificate_views.station_pdf, name="certificate_pdf"),
    path(
        "certificates/<int:pk>/<slug:action>/",
        certificate_views.station_certificate_action,
        name="certificate_action",
    ),
]
