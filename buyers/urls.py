from django.urls import path

from buyers import views

app_name = "buyers"

urlpatterns = [
    path("profile/", views.profile_edit, name="profile"),
]
