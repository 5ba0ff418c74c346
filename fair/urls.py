"""Every URL of the platform. Apps own their own ``urls.py``; this file only mounts them."""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from django.views.static import serve
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from buyers import views as buyer_views
from fair import mfa_views, views
from fair.api import views as api_views
from fair.forms import EmailAuthenticationForm

account_patterns = [
    path("signup/", buyer_views.sign_up, name="signup"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            authentication_form=EmailAuthenticationForm, redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("preferences/", views.account_preferences, name="account_preferences"),
    path("two-step/set-up/", mfa_views.mfa_setup, name="mfa_setup"),
    path("two-step/", mfa_views.mfa_verify, name="mfa_verify"),
    path(
        "password-change/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "password-change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path(
        "password-reset/",
        views.PasswordResetView.as_view(),
        name="password_reset",
    ),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]

api_patterns = [
    path("me/", api_views.MeApi.as_view(), name="api_me"),
    path("categories/", api_views.CategoryListApi.as_view(), name="api_categories"),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/", include(account_patterns)),
    path("buyers/", include("buyers.urls")),
    path("preferences/time-zone/", views.time_zone_detected, name="time_zone_detected"),
    path("preferences/language/", views.language_set, name="language_set"),
    path("notices/read/", views.notices_read, name="notices_read"),
    path("announcements/", views.announcements, name="announcements"),
    path("api/v1/", include(api_patterns)),
    path("api/v1/", include("exhibitors.api.urls")),
    path("api/v1/negotiations/", include("negotiations.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api_schema"), name="api_docs"),
    path("admin/", admin.site.urls),
    path("", include("exhibitors.urls")),
    path("", include("livestream.urls")),
    path("negotiations/", include("negotiations.urls")),
    path("organiser/", include("fair.organiser.urls")),
    path("organiser/exhibitors/", include("exhibitors.urls_organiser")),
    path("organiser/live/", include("livestream.urls_organiser")),
    path("organiser/negotiations/", include("negotiations.urls_organiser")),
]

if not settings.AWS_STORAGE_BUCKET_NAME:
    # Local file storage (embedded default, development): public media served by Django.
    # Uploads are re-encoded on the way in and carry server-generated names; private files
    # live in another folder that has no URL at all.
    urlpatterns += [
        re_path(r"^media/(?P<path>.+)$", serve, {"document_root": settings.MEDIA_ROOT}),
    ]
