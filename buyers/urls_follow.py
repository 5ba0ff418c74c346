"""Following booths. Included by ``buyers/urls.py`` into the ``buyers`` namespace (mounted
at ``/buyers/``): ``buyers:followed``, ``buyers:follow``, ``buyers:unfollow``."""

from django.urls import path

from buyers import views_follow

urlpatterns = [
    path("followed/", views_follow.followed, name="followed"),
    path("exhibitors/<slug:slug>/follow/", views_follow.follow, name="follow"),
    path("exhibitors/<slug:slug>/unfollow/", views_follow.unfollow, name="unfollow"),
]
