"""API routes of the negotiations app (mounted under /api/v1/negotiations/, no namespace; every
name starts with ``api_nego_``). One view per operation: reads GET, everything else POST."""

from django.urls import path

from negotiations.api import views

urlpatterns = [
    path("", views.NegotiationListApi.as_view(), name="api_nego_list"),
    path("open/", views.NegotiationOpenApi.as_view(), name="api_nego_open"),
    path("unread/", views.NegotiationUnreadApi.as_view(), name="api_nego_unread"),
    path("figures/", views.FiguresApi.as_view(), name="api_nego_figures"),
    path(
        "exhibitors/<int:exhibitor_id>/inbox/",
        views.NegotiationInboxApi.as_view(),
        name="api_nego_inbox",
    ),
    path("<int:negotiation_id>/", views.NegotiationDetailApi.as_view(), name="api_nego_detail"),
    path(
        "<int:negotiation_id>/messages/",
        views.NegotiationMessagesApi.as_view(),
        name="api_nego_messages",
    ),
    path(
        "<int:negotiation_id>/messages/send/",
        views.MessageSendApi.as_view(),
        name="api_nego_message_send",
    ),
    path(
        "<int:negotiation_id>/attachments/send/",
        views.AttachmentSendApi.as_view(),
        name="api_nego_attachment_send",
    ),
    path("<int:negotiation_id>/quotes/", views.QuoteListApi.as_view(), name="api_nego_quote_list"),
    path(
        "<int:negotiation_id>/quotes/send/",
        views.QuoteSendApi.as_view(),
        name="api_nego_quote_send",
    ),
    path(
        "quotes/<int:quote_id>/accept/",
        views.QuoteAcceptApi.as_view(),
        name="api_nego_quote_accept",
    ),
    path(
        "quotes/<int:quote_id>/decline/",
        views.QuoteDeclineApi.as_view(),
        name="api_nego_quote_decline",
    ),
    path("<int:negotiation_id>/read/", views.ReadApi.as_view(), name="api_nego_read"),
    path("<int:negotiation_id>/assign/", views.AssignApi.as_view(), name="api_nego_assign"),
    path("<int:negotiation_id>/close/", views.CloseApi.as_view(), name="api_nego_close"),
    path("<int:negotiation_id>/reopen/", views.ReopenApi.as_view(), name="api_nego_reopen"),
]
