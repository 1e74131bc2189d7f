"""The health forms: a maintenance window (one form for both kinds; the service checks the
combination) and an SLO (checked with sentences before the service checks again)."""

from __future__ import annotations

from django import forms

from health.models import MaintenanceWindow, Slo

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


class SloForm(forms.Form):
    name = forms.CharField(max_length=100)
    kind = forms.ChoiceField(choices=Slo.Kind.choices, initial=Slo.Kind.AVAILABILITY)
    objective_percent = forms.FloatField(
        label="Objective (%)",
        help_text="The promised share of good events, above 0 and below 100, e.g. 99.9.",
        error_messages={"invalid": "Type the objective as a number, e.g. 99.9."},
    )
    latency_threshold_ms = forms.IntegerField(
        label="Latency threshold (ms)",
        required=False,
        help_text="Latency objectives only: a response is good at or under this many ms.",
        error_messages={"invalid": "Type the threshold as a whole number of milliseconds."},
    )
    window_days = forms.TypedChoiceField(
        label="Window",
        choices=Slo.Window.choices,
        coerce=int,
        initial=Slo.Window.FOUR_WEEKS,
    )

    def clean_objective_percent(self) -> float:
        value = self.cleaned_data["objective_percent"]
        if not 0 < value < 100:
            raise forms.ValidationError(
                "The objective must be above 0 and below 100 (100 % leaves no error budget)."
            )
        return value

    def clean_latency_threshold_ms(self) -> int | None:
        value = self.cleaned_data.get("latency_threshold_ms")
        if value is not None and value < 1:
            raise forms.ValidationError("The threshold must be at least 1 ms.")
        return value

    def clean(self) -> dict:
        data = super().clean() or {}
        if (
            data.get("kind") == Slo.Kind.LATENCY
            and data.get("latency_threshold_ms") is None
            and "latency_threshold_ms" not in self.errors
        ):
            self.add_error("latency_threshold_ms", "A latency objective needs a threshold in ms.")
        return data

    @classmethod
    def of(cls, slo: Slo) -> SloForm:
        return cls(
            initial={
                "name": slo.name,
                "kind": slo.kind,
                "objective_percent": slo.objective_percent,
                "latency_threshold_ms": slo.latency_threshold_ms,
                "window_days": slo.window_days,
            }
        )
