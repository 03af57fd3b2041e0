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
                                help_text="An ESP is reached through django-anymail with this workspace's "
                                          "credentials below, or the installation's where none are set.")  # fmt: skip
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

    # The workspace's own credentials: write-only (never rendered back; the page says which are set).
    smtp_host = forms.CharField(required=False, max_length=253, label="SMTP server",
                                widget=forms.TextInput(attrs={"autocomplete": "off"}))  # fmt: skip
    smtp_port = forms.IntegerField(required=False, min_value=1, max_value=65535, label="SMTP port")
    smtp_security = forms.ChoiceField(required=False, label="SMTP connection security",
                                      choices=[("", "Keep the current setting"), ("starttls", "STARTTLS"),
                                               ("ssl", "TLS from the start (SMTPS)"), ("none", "None")])  # fmt: skip
    smtp_username = forms.CharField(required=False, max_length=254, label="SMTP user name",
                                    widget=forms.TextInput(attrs={"autocomplete": "off"}))  # fmt: skip
    smtp_password = forms.CharField(required=False, max_length=512, label="SMTP password", strip=False,
                                    widget=forms.PasswordInput(attrs={"autocomplete": "new-password"},
                                                               render_value=False))  # fmt: skip
    esp_api_key = forms.CharField(
        required=False,
        max_length=512,
        label="ESP API key (Postmark: server token)",
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}, render_value=False),
    )
    mailgun_sender_domain = forms.CharField(required=False, max_length=253, label="Mailgun sending domain")
    esp_webhook_signing_key = forms.CharField(
        required=False,
        max_length=4096,
        label="ESP webhook signing key (Mailgun, Mandrill, Postal, MailerSend, Resend; SendGrid: verification key)",
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}, render_value=False),
    )
    ses_region = forms.CharField(required=False, max_length=32, label="Amazon SES region")
    ses_access_key_id = forms.CharField(required=False, max_length=128, label="Amazon SES access key id",
                                        widget=forms.TextInput(attrs={"autocomplete": "off"}))  # fmt: skip
    ses_secret_access_key = forms.CharField(required=False, max_length=512, label="Amazon SES secret access key",
                                            widget=forms.PasswordInput(attrs={"autocomplete": "off"},
                                                                       render_value=False))  # fmt: skip
    clear_credentials = forms.BooleanField(required=False, label="Clear this workspace's stored credentials",
                                           help_text="The installation's settings apply again.")  # fmt: skip
    rotate_webhook_secret = forms.BooleanField(required=False, label="Make a new ESP webhook secret",
                                               help_text="The current one stops working at once.")  # fmt: skip
