from django.urls import path

from integrations.views import webhooks

urlpatterns = [
    path("settings/webhooks/", webhooks.webhook_list, name="webhook-list"),
    path("settings/webhooks/docs", webhooks.webhook_docs, name="webhook-docs"),
    path("settings/webhooks/<int:pk>/", webhooks.webhook_detail, name="webhook-detail"),
    path("settings/webhooks/<int:pk>/pause", webhooks.webhook_pause_view, name="webhook-pause"),
    path("settings/webhooks/<int:pk>/resume", webhooks.webhook_resume_view, name="webhook-resume"),
    path("settings/webhooks/<int:pk>/delete", webhooks.webhook_delete_view, name="webhook-delete"),
    path("settings/webhooks/<int:pk>/test", webhooks.webhook_test_view, name="webhook-test"),
    path(
        "settings/webhooks/<int:pk>/rotate-secret",
        webhooks.webhook_rotate_view,
        name="webhook-rotate-secret",
    ),
    path(
        "settings/webhooks/deliveries/<int:pk>/redeliver",
        webhooks.delivery_redeliver_view,
        name="delivery-redeliver",
    ),
]
