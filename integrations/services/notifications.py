"""Notifications: routing an event to the rules that want it, written in the emitting
transaction (``notifications_write``, called by ``event_emit``), digests, channels and rules.

A rule matches an event by kind, service, minimum severity and owner (a user or a team among
the event's owners: the tests' owners, an analysis's, an action item's). Each target (a channel,
or a subscriber's email) gets one message per event, however many rules point at it. A rule in
digest mode holds its messages until the period ends; the beat folds them into one.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from integrations import events
from integrations.apprise_channels import AppriseUrlInvalid, apprise_check, apprise_mask
from integrations.messages import Message, message_for
from integrations.models import Channel, NotificationDelivery, NotificationRule
from integrations.payloads import link
from integrations.services.enqueue import notifications_send_on_commit

logger = logging.getLogger(__name__)

Status = NotificationDelivery.Status
DIGEST_LINES = 50  # a digest lists this many events, then says how many more


@dataclass(frozen=True)
class Owners:
    """Who owns what an event is about: users and teams (Django groups), by id."""

    user_ids: frozenset[int] = field(default_factory=frozenset)
    team_ids: frozenset[int] = field(default_factory=frozenset)

    @classmethod
    def of(cls, *, users: Iterable[int | None] = (), teams: Iterable[int | None] = ()) -> Owners:
        return cls(
            frozenset(u for u in users if u is not None),
            frozenset(t for t in teams if t is not None),
        )

    def __bool__(self) -> bool:
        return bool(self.user_ids or self.team_ids)


class NotificationInvalid(ValueError):
    """A channel or rule that cannot be saved as given; the message says why, ``field`` where."""

    def __init__(self, message: str, *, field: str = "url") -> None:
        super().__init__(message)
        self.field = field


# --- routing ------------------------------------------------------------------------------------


def _user_teams(user_ids: Iterable[int]) -> dict[int, set[int]]:
    from django.contrib.auth import get_user_model

    through = get_user_model().groups.through
    teams: dict[int, set[int]] = {}
    for user_id, group_id in through.objects.filter(user_id__in=list(user_ids)).values_list(
        "user_id", "group_id"
    ):
        teams.setdefault(user_id, set()).add(group_id)
    return teams


OwnersArg = Owners | Callable[[], Owners] | None


def rules_matching(
    *, kind: str, service_id: int | None, severity: str, owners: OwnersArg
) -> list[NotificationRule]:
    """The active rules that want this event (one query, plus the owners' when a rule routes
    by owner: ``owners`` may be a function, called only then)."""
    rank = events.severity_rank(severity)
    rules = [
        rule
        for rule in NotificationRule.objects.filter(active=True)
        .filter(Q(service__isnull=True) | Q(service_id=service_id))
        .filter(Q(channel__isnull=True) | Q(channel__active=True))
        .select_related("channel", "subscriber")
        if (not rule.events or kind in rule.events)
        and rank >= events.severity_rank(rule.min_severity)
    ]
    by_owner = [r for r in rules if r.owner_user_id or r.owner_team_id]
    if not by_owner:
        return rules
    owners = (owners() if callable(owners) else owners) or Owners()
    members = _user_teams(
        {r.owner_user_id for r in by_owner if r.owner_user_id} | set(owners.user_ids)
    )
    owner_teams = set(owners.team_ids).union(*(members.get(u, set()) for u in owners.user_ids))

    def owned(rule: NotificationRule) -> bool:
        if rule.owner_user_id:
            return rule.owner_user_id in owners.user_ids or bool(
                members.get(rule.owner_user_id, set()) & set(owners.team_ids)
            )
        return rule.owner_team_id in owner_teams

    return [r for r in rules if not (r.owner_user_id or r.owner_team_id) or owned(r)]


def digest_due(*, now: datetime, digest: str) -> datetime:
    """When a digest period that holds ``now`` ends: the next full hour, or the next day at
    NOTIFICATIONS_DIGEST_HOUR (UTC)."""
    if digest == NotificationRule.Digest.HOURLY:
        return now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    at = now.replace(hour=settings.NOTIFICATIONS_DIGEST_HOUR, minute=0, second=0, microsecond=0)
    return at if at > now else at + timedelta(days=1)


def notifications_write(
    *,
    rules: Sequence[NotificationRule],
    kind: str,
    service,
    severity: str,
    data: dict[str, Any],
    event_id: uuid.UUID,
) -> int:
    """Write one delivery per target of ``rules`` (immediate first, so a target that one rule
    wants at once and another in a digest gets it at once), and wake the sender on commit."""
    message = message_for(kind=kind, service=service.name if service else None, data=data)
    now = timezone.now()
    seen: set[tuple[str, Any]] = set()
    rows = []
    for rule in sorted(rules, key=lambda r: (bool(r.digest), r.pk)):
        email = ""
        if rule.channel_id:
            target: tuple[str, Any] = ("channel", rule.channel_id)
        else:
            email = (rule.subscriber.email if rule.subscriber else "").strip()
            if not email:
                continue  # a subscriber without an address: nothing to send to
            target = ("email", email.lower())
        if target in seen:
            continue
        seen.add(target)
        held = bool(rule.digest)
        rows.append(
            NotificationDelivery(
                rule=rule,
                channel_id=rule.channel_id,
                email=email,
                event_id=event_id,
                kind=kind,
                severity=severity,
                service=service,
                title=message.title,
                text=message.line,
                link=message.link,
                status=Status.HELD if held else Status.PENDING,
                digest_due_at=digest_due(now=now, digest=rule.digest) if held else None,
                next_attempt_at=None if held else now,
            )
        )
    NotificationDelivery.objects.bulk_create(rows)
    if any(row.status == Status.PENDING for row in rows):
        notifications_send_on_commit()
    return len(rows)


# --- digests ------------------------------------------------------------------------------------


def notifications_digest(*, now: datetime | None = None) -> int:
    """Fold each target's held messages whose period ended into one pending digest; return how
    many digests were written. Two runs at once fold each message once."""
    now = now or timezone.now()
    groups = (
        NotificationDelivery.objects.filter(status=Status.HELD, digest_due_at__lte=now)
        .values_list("rule_id", "channel_id", "email")
        .distinct()
    )
    written = 0
    for rule_id, channel_id, email in list(groups):
        with transaction.atomic():
            held = NotificationDelivery.objects.filter(
                status=Status.HELD,
                digest_due_at__lte=now,
                rule_id=rule_id,
                channel_id=channel_id,
                email=email,
            ).order_by("created_at", "pk")
            if connection.vendor == "postgresql":
                held = held.select_for_update(skip_locked=True)
            rows = list(held)
            if not rows:
                continue
            digest = NotificationDelivery.objects.create(
                rule_id=rule_id,
                channel_id=channel_id,
                email=email,
                event_id=uuid.uuid4(),
                kind=events.DIGEST,
                severity=max((r.severity for r in rows), key=events.severity_rank),
                title=f"[Stageloop] digest: {len(rows)} event{'s' if len(rows) != 1 else ''}",
                text=_digest_text(rows),
                link=link("notification-mine"),
                next_attempt_at=min(now, timezone.now()),
            )
            NotificationDelivery.objects.filter(
                pk__in=[r.pk for r in rows], status=Status.HELD
            ).update(status=Status.DIGESTED, digest=digest, finished_at=now)
            written += 1
    if written:
        notifications_send_on_commit()
    return written


def _digest_text(rows: Sequence[NotificationDelivery]) -> str:
    lines = [Message(r.title, r.text, r.link).text for r in rows[:DIGEST_LINES]]
    if len(rows) > DIGEST_LINES:
        lines.append(f"…and {len(rows) - DIGEST_LINES} more.")
    return "\n".join(f"- {line}" for line in lines)


# --- channels and rules -------------------------------------------------------------------------


def _emails_clean(emails: str) -> str:
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    addresses = [a.strip() for a in emails.replace(";", ",").split(",") if a.strip()]
    if not addresses:
        raise NotificationInvalid("Give at least one email address.", field="emails")
    for address in addresses:
        try:
            validate_email(address)
        except ValidationError:
            raise NotificationInvalid(
                f"“{address}” is not an email address.", field="emails"
            ) from None
    return ", ".join(addresses)


def _channel_values(*, kind: str, url: str, emails: str, keep_url: bool = False) -> dict[str, str]:
    """The stored fields of a channel of ``kind`` (the URL checked and masked, or the addresses
    cleaned); raise NotificationInvalid with a sentence. ``keep_url``: a blank URL keeps the
    stored one (an edit), so nothing URL-related is returned."""
    if kind == Channel.Kind.APPRISE:
        url = url.strip()
        if not url and keep_url:
            return {}
        if not url:
            raise NotificationInvalid("Give the channel's Apprise URL.")
        try:
            apprise_check(url, allow_private=settings.WEBHOOKS_ALLOW_PRIVATE)
        except AppriseUrlInvalid as exc:
            raise NotificationInvalid(str(exc)) from None
        return {"url": url, "url_masked": apprise_mask(url), "emails": ""}
    if kind == Channel.Kind.EMAIL:
        return {"url": "", "url_masked": "", "emails": _emails_clean(emails)}
    raise NotificationInvalid("Choose Apprise URL or Email.", field="kind")


def _channel_name(name: str) -> str:
    name = name.strip()[:100]
    if not name:
        raise NotificationInvalid("Give the channel a name.", field="name")
    return name


def channel_create(*, name: str, kind: str, url: str = "", emails: str = "", user=None) -> Channel:
    """Create a channel: an Apprise URL checked (known service, reachable host) and stored with
    its masked form, or email addresses."""
    name = _channel_name(name)
    values = _channel_values(kind=kind, url=url, emails=emails)
    channel = Channel.objects.create(
        name=name,
        kind=kind,
        created_by=user if user is not None and user.is_authenticated else None,
        **values,
    )
    logger.info("notification channel %s created: %s", channel.pk, channel.target)
    return channel


def channel_update(
    *, channel: Channel, name: str, url: str = "", emails: str = "", active: bool = True
) -> Channel:
    """Change a channel, checked as when it was created; its kind stays. A blank Apprise URL
    keeps the stored one (pages never show it, so an edit cannot resend it); a new one is
    checked and masked again. Nothing is saved when any input is refused."""
    name = _channel_name(name)
    values = _channel_values(kind=channel.kind, url=url, emails=emails, keep_url=True)
    for key, value in {"name": name, "active": active, **values}.items():
        setattr(channel, key, value)
    channel.save(update_fields=["name", "active", *values])
    logger.info(
        "notification channel %s changed%s: %s",
        channel.pk,
        " (new URL)" if values.get("url") else "",
        channel.target,
    )
    return channel


def channel_delete(*, channel: Channel) -> None:
    channel.delete()


def channel_test_send(*, channel: Channel) -> NotificationDelivery:
    """Queue a test message to this channel alone."""
    delivery = NotificationDelivery.objects.create(
        channel=channel,
        event_id=uuid.uuid4(),
        kind="notification.test",
        title="[Stageloop] test message",
        text=f"A test message from Stageloop: the channel {channel.name} receives notifications.",
        link=link("notification-list"),
        next_attempt_at=timezone.now(),
    )
    notifications_send_on_commit()
    return delivery


def _rule_check(
    *, kinds: Sequence[str], channel: Channel | None, subscriber, min_severity: str, digest: str
) -> None:
    unknown = sorted(set(kinds) - set(events.KINDS))
    if unknown:
        raise NotificationInvalid(f"Unknown events: {', '.join(unknown)}.", field="events")
    if channel is None and subscriber is None:
        raise NotificationInvalid("Choose the channel the rule sends to.", field="channel")
    if channel is None and not (subscriber.email or "").strip():
        raise NotificationInvalid(
            "Your account has no email address: choose a channel, or ask an admin to add "
            "your address.",
            field="channel",
        )
    if min_severity not in events.SEVERITIES:
        raise NotificationInvalid("Choose info, warning or critical.", field="min_severity")
    if digest not in NotificationRule.Digest.values:
        raise NotificationInvalid("Choose immediate, hourly or daily.", field="digest")


def rule_create(
    *,
    kinds: Sequence[str],
    channel: Channel | None = None,
    subscriber=None,
    service=None,
    owner_user=None,
    owner_team=None,
    min_severity: str = events.INFO,
    digest: str = "",
    user=None,
) -> NotificationRule:
    """A team rule (a channel) or a subscription (``subscriber``; a channel or their email)."""
    _rule_check(
        kinds=kinds,
        channel=channel,
        subscriber=subscriber,
        min_severity=min_severity,
        digest=digest,
    )
    return NotificationRule.objects.create(
        events=list(kinds),
        channel=channel,
        subscriber=subscriber,
        service=service,
        owner_user=owner_user,
        owner_team=owner_team,
        min_severity=min_severity,
        digest=digest,
        created_by=user if user is not None and user.is_authenticated else None,
    )


def rule_update(
    *,
    rule: NotificationRule,
    kinds: Sequence[str],
    channel: Channel | None,
    service=None,
    owner_user=None,
    owner_team=None,
    min_severity: str = events.INFO,
    digest: str = "",
    active: bool = True,
) -> NotificationRule:
    """Change a team rule or a subscription, checked as when it was created (its subscriber
    stays). Messages already written keep the rule's old choices; a held one still goes out in
    its digest. Nothing is saved when any input is refused."""
    _rule_check(
        kinds=kinds,
        channel=channel,
        subscriber=rule.subscriber,
        min_severity=min_severity,
        digest=digest,
    )
    values = {
        "events": list(kinds),
        "channel": channel,
        "service": service,
        "owner_user": owner_user,
        "owner_team": owner_team,
        "min_severity": min_severity,
        "digest": digest,
        "active": active,
    }
    for key, value in values.items():
        setattr(rule, key, value)
    rule.save(update_fields=list(values))
    return rule


def rule_delete(*, rule: NotificationRule) -> None:
    rule.delete()
