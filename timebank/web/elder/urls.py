from django.urls import path

from . import views

app_name = "elder"

urlpatterns = [
    path("", views.index, name="index"),
    path("<int:elder_id>/", views.home, name="home"),
    path("<int:elder_id>/ask/", views.ask, name="ask"),
    path("<int:elder_id>/ask/<slug:code>/", views.ask_when, name="ask_when"),
    path("<int:elder_id>/asked/<int:need_id>/", views.ask_done, name="ask_done"),
    path("<int:elder_id>/visits/", views.visits, name="visits"),
    path("<int:elder_id>/visits/<int:visit_id>/confirm/", views.visit_confirm, name="visit_confirm"),
    path("<int:elder_id>/visits/<int:visit_id>/rate/", views.visit_rate, name="visit_rate"),
    path("<int:elder_id>/hours/", views.statement, name="statement"),
    path("<int:elder_id>/give/", views.give, name="give"),
    path("<int:elder_id>/card/", views.card, name="card"),
]
