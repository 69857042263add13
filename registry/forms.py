from django import forms
from django.conf import settings

from patients.models import Site


class RegistryUploadForm(forms.Form):
    file = forms.FileField(label="Registry CSV file",
                           help_text="UTF-8 CSV in the layout of docs/registry-csv.md.")
    site = forms.ModelChoiceField(
        queryset=Site.objects.none(), required=False,
        help_text="Used for rows whose 'site' column is blank.",
    )

    def __init__(self, *args, sites=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = sites if sites is not None else Site.objects.none()

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.REGISTRY_MAX_UPLOAD_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                f"The file is {upload.size / 1048576:.1f} MB; the limit is "
                f"{limit / 1048576:.0f} MB. Split it, or use the import_registry command."
            )
        if not upload.name.lower().endswith(".csv"):
            raise forms.ValidationError("Upload a .csv file (comma-separated values).")
        head = upload.read(2048)
        upload.seek(0)
        if b"\x00" in head:
            raise forms.ValidationError("This is not a CSV text file.")
        return upload
