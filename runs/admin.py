from django.contrib import admin, messages

from runs import models
from runs.health_seam import service_probe_ensure
from runs.services.demo import demo_data_remove, demo_removal_message
from runs.services.history_removal import history_remove


class HistoryRemovalMixin:
    """Deleting runs, tests or results recomputes the read models that counted them."""

    def delete_model(self, request, obj):
        history_remove(rows=type(obj).objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        history_remove(rows=queryset)


class RevisionInline(admin.TabularInline):
    model = models.Revision
    fields = ("name", "image", "status", "traffic_percent", "created_at")
    readonly_fields = ("created_at",)
    extra = 0
    show_change_link = True


@admin.register(models.Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "display_name",
        "target_kind",
        "current_revision",
        "is_demo",
        "created_at",
    )
    list_filter = ("target_kind", "is_demo")
    search_fields = ("name", "display_name", "description")
    raw_id_fields = ("current_revision",)
    actions = ["remove_demo_data"]

    @admin.action(
        description="Remove the selected demo services and everything under them",
        permissions=["delete"],
    )
    def remove_demo_data(self, request, queryset):
        removal = demo_data_remove(services=queryset)
        self.message_user(request, demo_removal_message(removal), messages.SUCCESS)
        for name in removal.left:
            self.message_user(
                request, f"Service {name} is not demo data and was left as it is.", messages.WARNING
            )

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        service_probe_ensure(service=obj)  # a new service gets a probe on its health path


@admin.register(models.Build)
class BuildAdmin(admin.ModelAdmin):
    list_display = ("service", "image", "commit_sha", "created_by", "created_at")
    list_filter = ("service",)
    search_fields = ("image", "commit_sha", "commit_message")
    date_hierarchy = "created_at"


@admin.register(models.Revision)
class RevisionAdmin(admin.ModelAdmin):
    list_display = ("name", "service", "image", "status", "traffic_percent", "created_at")
    list_filter = ("status", "service")
    search_fields = ("name", "image", "commit_sha")
    date_hierarchy = "created_at"


@admin.register(models.Deploy)
class DeployAdmin(admin.ModelAdmin):
    list_display = ("pk", "service", "image", "status", "trigger", "requested_by", "created_at")
    list_filter = ("status", "trigger", "service")
    search_fields = ("image", "commit_sha", "error", "operation")
    raw_id_fields = ("revision", "previous_revision", "build")
    date_hierarchy = "created_at"


@admin.register(models.Suite)
class SuiteAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "service",
        "target_test_count",
        "timeout_seconds",
        "schedule_minutes",
        "schedule_enabled",
    )
    list_filter = ("service",)
    search_fields = ("name",)


@admin.register(models.ScheduleSkip)
class ScheduleSkipAdmin(admin.ModelAdmin):
    """Skipped occurrences of suite schedules: written by the tick, read here."""

    list_display = ("suite", "reason", "due_at", "missed", "active_run", "recorded_at")
    list_filter = ("reason",)
    raw_id_fields = ("suite", "active_run")
    readonly_fields = ("suite", "reason", "due_at", "missed", "active_run", "detail", "recorded_at")

    def has_add_permission(self, request) -> bool:
        return False


class ArtifactInline(admin.TabularInline):
    model = models.TestRunArtifact
    extra = 0


@admin.register(models.TestRun)
class TestRunAdmin(HistoryRemovalMixin, admin.ModelAdmin):
    list_display = (
        "pk",
        "suite",
        "revision",
        "status",
        "trigger",
        "total",
        "passed",
        "failed",
        "errors",
        "skipped",
        "created_at",
    )
    list_filter = ("status", "trigger", "service")
    search_fields = ("suite__name", "revision__name", "content_hash")
    raw_id_fields = ("revision", "deploy", "suite")
    date_hierarchy = "created_at"
    inlines = [ArtifactInline]


@admin.register(models.TestCase)
class TestCaseAdmin(HistoryRemovalMixin, admin.ModelAdmin):
    list_display = ("key", "suite", "first_seen_at")
    list_filter = ("suite",)
    search_fields = ("key", "name", "classname", "file")


@admin.register(models.TestResult)
class TestResultAdmin(HistoryRemovalMixin, admin.ModelAdmin):
    list_display = ("case", "run", "outcome", "duration", "attempts", "flaky")
    list_filter = ("outcome", "flaky")
    search_fields = ("case__key", "message")
    raw_id_fields = ("run", "case", "signature")
    list_select_related = ("case",)
    show_full_result_count = False  # counting ten million rows on every list page is too slow


@admin.register(models.FailureSignature)
class FailureSignatureAdmin(admin.ModelAdmin):
    list_display = ("normalized", "suite", "kind", "first_seen_at", "last_seen_at")
    list_filter = ("kind", "suite")
    search_fields = ("normalized", "example")


class IterationInline(admin.TabularInline):
    model = models.LoopIteration
    extra = 0
    raw_id_fields = ("build", "deploy", "run")


@admin.register(models.Loop)
class LoopAdmin(admin.ModelAdmin):
    list_display = ("pk", "service", "suite", "goal", "status", "max_iterations", "created_at")
    list_filter = ("status", "goal", "service")
    search_fields = ("service__name",)
    inlines = [IterationInline]


@admin.register(models.ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("name", "user__username", "prefix")
    readonly_fields = ("digest", "prefix")


@admin.register(models.Outbox)
class OutboxAdmin(admin.ModelAdmin):
    """Read-only: messages are written with their rows and sent by the code, never by hand."""

    list_display = ("pk", "task", "args", "created_at", "sent_at", "attempts", "next_attempt_at")
    list_filter = (("sent_at", admin.EmptyFieldListFilter), "task")
    search_fields = ("key",)
    readonly_fields = [f.name for f in models.Outbox._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(models.GatePolicy)
class GatePolicyAdmin(admin.ModelAdmin):
    """The release gate's before-traffic rules of a service, or of one suite (which wins)."""

    list_display = (
        "service",
        "suite",
        "goal",
        "goal_pass_rate",
        "no_new_signatures",
        "max_failed",
        "min_tests",
        "min_tests_percent",
        "max_probe_error_percent",
        "max_probe_p95_ms",
        "no_open_incident",
        "no_exhausted_error_budget",
        "dry_run",
    )
    list_filter = ("goal", "dry_run")
    raw_id_fields = ("service", "suite")


@admin.register(models.Verdict)
class VerdictAdmin(admin.ModelAdmin):
    list_display = ("revision", "run", "outcome", "dry_run", "created_at")
    list_filter = ("outcome", "dry_run")
    raw_id_fields = ("revision", "run", "policy")
    readonly_fields = ("created_at",)


@admin.register(models.QuarantinePolicy)
class QuarantinePolicyAdmin(admin.ModelAdmin):
    """A suite's automatic quarantine (off until turned on here) and release (on)."""

    list_display = (
        "suite",
        "auto_quarantine",
        "flake_threshold",
        "window",
        "min_results",
        "auto_release",
        "release_after",
    )
    list_filter = ("auto_quarantine", "auto_release")
    raw_id_fields = ("suite",)


@admin.register(models.TestState)
class TestStateAdmin(admin.ModelAdmin):
    """Current states; change them on the test page or through the API, which keep history."""

    list_display = ("case", "suite", "state", "reason", "by", "since", "expires_at", "automatic")
    list_filter = ("state", "automatic")
    raw_id_fields = ("case", "suite", "by")

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(models.OwnerRule)
class OwnerRuleAdmin(admin.ModelAdmin):
    """CODEOWNERS-style rules: read by position, the last matching rule owns the test."""

    list_display = ("suite", "position", "field", "pattern", "user", "team")
    list_filter = ("field",)
    raw_id_fields = ("suite", "user")
