"""The maintenance window form: one form for both kinds; the service checks the combination."""

from __future__ import annotations

from django import forms

from health.models import MaintenanceWindow

WEEKDAYS = [
    (1, "Mon"),
    (2, "Tue"),
    (3, "Wed"),
    (4, "Thu"),
    (5, "Fri"),
    (6, "Sat"),
    (7, "Sun"),
]


class MaintenanceWindowForm(forms.Form):
    kind = forms.ChoiceField(choices=MaintenanceWindow.Kind.choices, widget=forms.RadioSelect)
    reason = forms.CharField(max_length=200, required=False)
    starts_at = forms.DateTimeField(
        required=False,
        label="Starts (once)",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="In the site's time zone.",
    )
    ends_at = forms.DateTimeField(
        required=False,
        label="Ends (once)",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    weekdays = forms.TypedMultipleChoiceField(
        choices=WEEKDAYS,
        coerce=int,
        required=False,
        label="Weekdays (weekly)",
        widget=forms.CheckboxSelectMultiple,
    )
    local_start = forms.TimeField(
        required=False,
        label="Start time (weekly)",
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text="Wall-clock time in the site's time zone, daylight saving included.",
    )
    duration_minutes = forms.IntegerField(
        required=False, min_value=1, label="Duration in minutes (weekly)"
    )

    @classmethod
    def for_window(cls, window: MaintenanceWindow) -> MaintenanceWindowForm:
        return cls(
            initial={
                "kind": window.kind,
                "reason": window.reason,
                "starts_at": window.starts_at,
                "ends_at": window.ends_at,
                "weekdays": window.weekdays,
                "local_start": window.local_start,
                "duration_minutes": window.duration_minutes,
            }
        )
