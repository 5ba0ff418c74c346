from django.urls import include, path

from livestream import views

app_name = "livestream"

urlpatterns = [
    path("livestream/media/on-publish/", views.media_on_publish, name="media_on_publish"),
    path(
        "livestream/media/on-publish-done/",
        views.media_on_publish_done,
        name="media_on_publish_done",
    ),
    path("livestream/media/on-update/", views.media_on_update, name="media_on_update"),
    path("", include("livestream.urls_pages")),
]
