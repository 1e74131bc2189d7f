from django import forms

from reports.models import Capability


class CapabilityForm(forms.ModelForm):
    class Meta:
        model = Capability
        fields = ["name", "description", "patterns", "services", "position"]
        widgets = {
            "patterns": forms.Textarea(attrs={"rows": 5}),
            "description": forms.Textarea(attrs={"rows": 2}),
            "services": forms.CheckboxSelectMultiple,
        }
