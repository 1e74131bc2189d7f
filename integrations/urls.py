from django.urls import path

from integrations.views import commit_statuses, notifications, webhooks

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
    path(
        "settings/commit-statuses/",
        commit_statuses.commit_status_list,
        name="commit-status-list",
    ),
    path(
        "settings/commit-statuses/<int:pk>/repost",
        commit_statuses.commit_status_repost_view,
        name="commit-status-repost",
    ),
    path("settings/notifications/", notifications.notification_list, name="notification-list"),
    path(
        "settings/notifications/channels/<int:pk>/",
        notifications.channel_edit,
        name="channel-edit",
    ),
    path("settings/notifications/rules/<int:pk>/", notifications.rule_edit, name="rule-edit"),
    path(
        "settings/notifications/mine/<int:pk>/",
        notifications.subscription_edit,
        name="subscription-edit",
    ),
    path(
        "settings/notifications/channels/<int:pk>/delete",
        notifications.channel_delete_view,
        name="channel-delete",
    ),
    path(
        "settings/notifications/channels/<int:pk>/test",
        notifications.channel_test_view,
        name="channel-test",
    ),
    path(
        "settings/notifications/rules/<int:pk>/delete",
        notifications.rule_delete_view,
        name="rule-delete",
    ),
    path("settings/notifications/mine/", notifications.notification_mine, name="notification-mine"),
    path(
        "settings/notifications/mine/<int:pk>/delete",
        notifications.subscription_delete_view,
        name="subscription-delete",
    ),
]
