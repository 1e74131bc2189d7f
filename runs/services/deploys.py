"""Starting deploys: the rows of one deploy-and-test, created together and enqueued on commit."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.db import IntegrityError, transaction

from runs.models import Build, Deploy, Service, Suite, TestRun
from runs.services.enqueue import deploy_and_test_enqueue


class DeployInProgress(Exception):
    """A deploy of this service is already queued or running."""

    def __init__(self, active: Deploy | None) -> None:
        self.active = active
        super().__init__(
            f"A deploy of this service is already in progress (deploy #{active.pk})."
            if active
            else "A deploy of this service is already in progress."
        )


class NothingToDeploy(ValueError):
    """The service has no image to deploy and none was given."""


def deploy_active_for(*, service: Service) -> Deploy | None:
    return Deploy.objects.filter(service=service, status__in=Deploy.ACTIVE).first()


def deploy_and_test_create(
    *,
    service: Service,
    suite: Suite | None = None,
    build: Build | None = None,
    image: str = "",
    user: User | AnonymousUser | None = None,
    trigger: str = Deploy.Trigger.BUTTON,
    release_policy: str = "",
) -> tuple[Deploy, TestRun | None]:
    """Create the Deploy and its TestRun in one transaction and enqueue the chain on commit.

    Raises DeployInProgress when the service already has an active deploy: the database's
    partial unique index decides, so two concurrent clicks make exactly one deploy.
    ``release_policy`` (immediate / gated / canary) overrides the service's for this deploy.
    """
    release_policy = release_policy or service.release_policy
    if release_policy not in Service.ReleasePolicy.values:
        raise ValueError(
            f"Unknown release policy {release_policy!r}; choose one of "
            f"{', '.join(Service.ReleasePolicy.values)}."
        )
    if build is None and not image:
        build = service.builds.order_by("-created_at").first()
    image = build.image if build else (image or service.default_image)
    if not image:
        raise NothingToDeploy(f"Service {service.name} has no build or default image to deploy.")
    suite = suite or service.suites.order_by("pk").first()
    try:
        with transaction.atomic():
            deploy = Deploy.objects.create(
                service=service,
                build=build,
                image=image,
                commit_sha=build.commit_sha if build else "",
                trigger=trigger,
                requested_by=user if user and user.is_authenticated else None,
                # Read now: the caller's Service may be older than the last deploy.
                previous_revision_id=Service.objects.filter(pk=service.pk)
                .values_list("current_revision", flat=True)
                .first(),
                timeout_seconds=int(service.target_config.get("timeout", 900)),
                release_policy=release_policy,
            )
            run = None
            if suite is not None:
                run = TestRun.objects.create(
                    suite=suite,
                    service=service,
                    deploy=deploy,
                    trigger=TestRun.Trigger.DEPLOY
                    if trigger != Deploy.Trigger.LOOP
                    else TestRun.Trigger.LOOP,
                    created_by=deploy.requested_by,
                    timeout_seconds=suite.timeout_seconds,
                )
            deploy_and_test_enqueue(deploy_id=deploy.pk)
    except IntegrityError:
        raise DeployInProgress(deploy_active_for(service=service)) from None
    return deploy, run
