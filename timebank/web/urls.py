from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("elder-mode/", views.elder_mode, name="elder_mode"),
    path("elder/", include("timebank.web.elder.urls")),
    path("volunteer/", include("timebank.web.volunteer.urls")),
    path("station/", include("timebank.web.station.urls")),
    path("area/", include("timebank.web.area.urls")),
    path("account/", include("timebank.web.account.urls")),
    path("my-data/", include("timebank.web.privacy.urls")),
    path("honours/", include("timebank.web.rewards.public_urls")),
    path("rewards/", include("timebank.web.rewards.urls")),
    path("teams/", include("timebank.web.teams.urls")),
    path("training/", include("timebank.web.training.urls")),
]
