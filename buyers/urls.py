from django.urls import include, path

from buyers import views

app_name = "buyers"

urlpatterns = [
    path("profile/", views.profile_edit, name="profile"),
    path("", include("buyers.urls_follow")),
]
