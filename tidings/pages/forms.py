"""The landing-page editor's form; values are checked by tidings.pages.actions (one place for the rules)."""

from __future__ import annotations

from django import forms

from tidings.pages.models import RedirectType

CHOICE_ERRORS = {"invalid_choice": "Choose one of the options."}


class PageForm(forms.Form):
    title = forms.CharField(max_length=191)
    slug = forms.CharField(
        max_length=191,
        required=False,
        widget=forms.TextInput(attrs={"spellcheck": "false", "autocapitalize": "none"}),
        help_text="The page's address ends with it: lowercase letters, digits and dashes. Left empty, a new "
        "page's is made from its title and a saved page keeps its own.",
    )
    content = forms.CharField(
        required=False,
        max_length=500_000,
        strip=False,
        label="Content (HTML)",
        widget=forms.Textarea(attrs={"rows": 16, "spellcheck": "false", "class": "code"}),
        help_text="Cleaned when saved: scripts, styles and event handlers are removed. {form=ID} embeds a "
        "published form, {pagelink=ID} is the address of another published page.",
    )
    meta_description = forms.CharField(
        max_length=300, required=False, label="Meta description", widget=forms.Textarea(attrs={"rows": 2})
    )
    og_title = forms.CharField(max_length=191, required=False, label="Title when shared (og:title)")
    canonical_url = forms.CharField(max_length=500, required=False, label="Canonical address")
    noindex = forms.BooleanField(required=False, label="Ask search engines not to index this page (noindex)")
    is_published = forms.BooleanField(required=False, label="Published", help_text="Only published pages are served.")
    redirect_type = forms.ChoiceField(
        choices=RedirectType.choices,
        required=False,
        widget=forms.RadioSelect,
        error_messages=CHOICE_ERRORS,
        label="When unpublished",
    )
    redirect_url = forms.CharField(max_length=2048, required=False, label="Redirect to")

    def values(self) -> dict:
        """Return the cleaned form as page_create / page_update arguments."""
        data = dict(self.cleaned_data)
        data["redirect_type"] = data.get("redirect_type") or ""
        return data

    @classmethod
    def for_page(cls, page) -> PageForm:
        return cls(initial={name: getattr(page, name) for name in cls.base_fields})
