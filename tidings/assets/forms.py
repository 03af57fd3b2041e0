"""The asset forms of the UI; values are checked by tidings.assets.actions (one place for the rules)."""

from __future__ import annotations

from django import forms

MAX_UPLOAD_FIELD = 255


class AssetForm(forms.Form):
    title = forms.CharField(max_length=191, help_text="What visitors and your team see, e.g. “Pricing guide”.")
    alias = forms.CharField(
        max_length=191,
        required=False,
        help_text="The last part of the public link: lowercase letters, digits and hyphens. Made from the "
        "title when left empty.",
    )
    description = forms.CharField(max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 3}))
    file = forms.FileField(
        required=False,
        allow_empty_file=True,  # the action says why an empty file is refused
        help_text="PDF, images, Office or OpenDocument files, zip, plain text or CSV. Its type is read "
        "from its content.",
    )
    remote_url = forms.CharField(
        max_length=2000,
        required=False,
        label="Or a remote address",
        help_text="A file hosted elsewhere (https://…): the download link redirects there.",
    )
    is_published = forms.BooleanField(
        required=False, initial=True, label="Published", help_text="An unpublished asset's link answers 404."
    )
    form_id = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=2**63 - 1,
        label="Form gate",
        help_text="The id of a form visitors fill in before the download starts. Leave empty for none.",
    )

    def values(self) -> dict:
        """Return the cleaned attributes (not the file) as asset_create / asset_update arguments."""
        data = self.cleaned_data
        return {
            "title": data["title"],
            "alias": data["alias"],
            "description": data["description"],
            "is_published": data["is_published"],
            "form_id": data["form_id"],
            "remote_url": data["remote_url"].strip(),
        }

    @classmethod
    def for_asset(cls, asset) -> AssetForm:
        return cls(
            initial={
                "title": asset.title,
                "alias": asset.alias,
                "description": asset.description,
                "remote_url": asset.remote_url,
                "is_published": asset.is_published,
                "form_id": asset.form_id,
            }
        )


class AssetSettingsForm(forms.Form):
    max_megabytes = forms.DecimalField(
        min_value=0.01,
        max_digits=8,
        decimal_places=2,
        label="Largest upload (MB)",
        help_text="Files above this size are refused with a clear message.",
    )
