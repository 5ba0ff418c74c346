"""The organisers' area of the fair core, mounted at /organiser/."""

from django.urls import path

from fair.organiser import views

app_name = "organiser"

urlpatterns = [
    path("", views.home, name="home"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/figures/", views.dashboard_figures, name="dashboard_figures"),
    path("editions/", views.editions, name="editions"),
    path("editions/<int:edition_id>/", views.edition_edit, name="edition_edit"),
    path("categories/", views.categories, name="categories"),
    path("categories/new/", views.category_edit, name="category_new"),
    path("categories/<int:category_id>/", views.category_edit, name="category_edit"),
    path("halls/", views.halls, name="halls"),
    path("halls/new/", views.hall_edit, name="hall_new"),
    path("halls/<int:hall_id>/", views.hall_edit, name="hall_edit"),
    path("halls/<int:hall_id>/delete/", views.hall_remove, name="hall_delete"),
    path("announcements/", views.announcements, name="announcements"),
    path(
        "announcements/<int:announcement_id>/withdraw/",
        views.announcement_take_down,
        name="announcement_withdraw",
    ),
    path("audit/", views.audit, name="audit"),
]
