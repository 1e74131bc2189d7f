"""Upload JUnit XML results to a suite from the browser (Operators)."""

from __future__ import annotations

from typing import cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from runs.models import Revision, Suite, TestRun
from runs.services.ingest import IngestError, ReportFile, run_import


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if not isinstance(data, list | tuple):
            return [single(data, initial)]
        if not data:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        return [single(d, initial) for d in data]


class UploadForm(forms.Form):
    # The form metaclass moves declared fields into base_fields: Form.files stays the uploads.
    files = MultipleFileField(  # type: ignore[assignment]  # a field named like Form.files
        label="JUnit XML files (plain or .gz), or a .zip / .tar.gz of them with their attachments",
        error_messages={"required": "Choose at least one JUnit XML report to upload."},
    )
    revision = forms.ModelChoiceField(
        queryset=Revision.objects.none(), required=False, label="Revision tested"
    )

    def __init__(self, *args, suite: Suite, **kwargs):
        super().__init__(*args, **kwargs)
        field = cast(forms.ModelChoiceField, self.fields["revision"])
        # The 50 newest are offered; a sliced queryset cannot be filtered, so validating the
        # chosen one needs them as a subquery (a slice made every choice invalid).
        newest = suite.service.revisions.order_by("-created_at").values("pk")[:50]
        field.queryset = Revision.objects.filter(pk__in=newest).order_by("-created_at")
        field.error_messages["invalid_choice"] = (
            f"That is not a revision of {suite.service.name}: choose one from the list, "
            "or leave it empty."
        )


@permission_required("runs.trigger_deploy", raise_exception=True)
def suite_upload(request: HttpRequest, pk: int) -> HttpResponse:
    suite = get_object_or_404(Suite.objects.select_related("service"), pk=pk)
    if request.method != "POST":
        form = UploadForm(suite=suite)
        return render(request, "runs/suite_upload.html", {"suite": suite, "form": form})
    form = UploadForm(request.POST, request.FILES, suite=suite)
    if form.is_valid():
        try:
            result = run_import(
                suite=suite,
                revision=form.cleaned_data["revision"],
                files=[ReportFile.of_upload(f) for f in form.cleaned_data["files"]],
                trigger=TestRun.Trigger.UPLOAD,
                user=request.user,
            )
        except IngestError as exc:
            form.add_error("revision" if exc.field == "revision" else "files", str(exc))
        else:
            if result.created:
                messages.success(
                    request, f"Imported {result.run.total} tests as run #{result.run.pk}."
                )
            else:
                messages.info(
                    request, f"These files were already imported as run #{result.run.pk}."
                )
            return redirect(result.run)
    return render(request, "runs/suite_upload.html", {"suite": suite, "form": form}, status=400)
