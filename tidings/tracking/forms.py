"""The site form of the settings pages; values are checked by tidings.tracking.actions (one place for the rules)."""

from __future__ import annotations

from django import forms

from tidings.tracking.models import ConsentMode, IpStorage

MAX_LIST_TEXT = 5000  # characters of the domains or networks box
# Django's own message quotes the value posted ("x is not one of the available choices").
CHOICE_ERRORS = {"invalid_choice": "Choose one of the options."}


class SiteForm(forms.Form):
    name = forms.CharField(max_length=191, help_text="What your team calls the site, e.g. “Shop”.")
    domains = forms.CharField(
        max_length=MAX_LIST_TEXT,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "autocapitalize": "none"}),
        help_text="Host names whose pages may send hits, one per line: shop.example. Start with a dot "
        "(.shop.example) to allow its subdomains too. Hits from other pages are refused.",
    )
    consent_mode = forms.ChoiceField(
        choices=ConsentMode.choices,
        initial=ConsentMode.CONSENT,
        widget=forms.RadioSelect,
        error_messages=CHOICE_ERRORS,
        label="When visitors are profiled",
        help_text="Whatever you choose, visits are counted cookielessly, and a browser sending Global "
        "Privacy Control or Do Not Track is never profiled.",
    )
    ip_storage = forms.ChoiceField(
        choices=IpStorage.choices,
        initial=IpStorage.NETWORK,
        widget=forms.RadioSelect,
        error_messages=CHOICE_ERRORS,
        label="IP addresses kept",
    )
    excluded_networks = forms.CharField(
        max_length=MAX_LIST_TEXT,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "spellcheck": "false", "autocapitalize": "none"}),
        label="Excluded networks",
        help_text="Hits from these networks are ignored (your office), one per line: 203.0.113.0/24 or 2001:db8::/48.",
    )
    active = forms.BooleanField(required=False, initial=True, help_text="An inactive site's key accepts no hits.")

    @staticmethod
    def lines(text: str) -> list[str]:
        """Return the non-empty lines (or comma-separated entries) of a list box."""
        return [part.strip() for part in text.replace(",", "\n").splitlines() if part.strip()]

    def values(self) -> dict:
        """Return the cleaned form as site_create / site_update arguments."""
        data = self.cleaned_data
        return {
            "name": data["name"],
            "domains": self.lines(data["domains"]),
            "consent_mode": data["consent_mode"],
            "ip_storage": data["ip_storage"],
            "excluded_networks": self.lines(data["excluded_networks"]),
            "active": data["active"],
        }

    @classmethod
    def for_site(cls, site) -> SiteForm:
        return cls(
            initial={
                "name": site.name,
                "domains": "\n".join(site.domains),
                "consent_mode": site.consent_mode,
                "ip_storage": site.ip_storage,
                "excluded_networks": "\n".join(site.excluded_networks),
                "active": site.active,
            }
        )
