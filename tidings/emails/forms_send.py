"""The forms of the sending pages: the workspace's sending settings."""

from __future__ import annotations

from django import forms

from tidings.emails.models import SendingBackend


class SendingSettingsForm(forms.Form):
    from_name = forms.CharField(required=False, max_length=191, label="Default sender name")
    from_address = forms.EmailField(required=False, max_length=254, label="Default sender address",
                                    help_text="Used when an email names no sender of its own.")  # fmt: skip
    sending_domains = forms.CharField(required=False, max_length=2000, label="Sending domains",
                                      help_text="Domains emails may be sent from, separated by spaces or commas; "
                                                "empty allows any.")  # fmt: skip
    backend = forms.ChoiceField(choices=SendingBackend.choices, label="Sent through",
                                help_text="An ESP is reached through django-anymail with the installation's "
                                          "credentials for it.")  # fmt: skip
    connections = forms.IntegerField(min_value=1, max_value=16, label="Parallel SMTP connections")
    rate_per_second = forms.IntegerField(min_value=0, max_value=100_000, label="Messages per second at most",
                                         help_text="0: as fast as the server takes them.")  # fmt: skip
    cap_count = forms.IntegerField(min_value=0, max_value=1000, label="Marketing emails per contact at most",
                                   help_text="0: no frequency cap. Transactional emails do not count.")  # fmt: skip
    cap_days = forms.IntegerField(min_value=1, max_value=365, label="…in this many days")
    dkim_domain = forms.CharField(required=False, max_length=253, label="DKIM signing domain (d=)")
    dkim_selector = forms.CharField(required=False, max_length=63, label="DKIM selector (s=)")
    dkim_private_key = forms.CharField(required=False, max_length=20_000, label="New DKIM private key (PEM)",
                                       widget=forms.Textarea(attrs={"rows": 4, "autocomplete": "off"}),
                                       help_text="Stored sealed; never shown again. Leave empty to keep the "
                                                 "current key.")  # fmt: skip
    remove_dkim_key = forms.BooleanField(required=False, label="Remove the stored DKIM key")
