"""Emails: what a workspace writes (emails and their frozen versions), what it sends, and what came back.

An email's content holds no contact's personal data: personalisation happens per message at send time and
no copy of a sent message is stored (Mautic's email_stats row holds one). A delivery keeps what is needed to
show what was sent: the email version and a hash of the token values. Tables refer to each other by id
columns and every index leads with workspace_id (decision 0006).
"""

from __future__ import annotations

from django.db import models
from django.utils.timezone import now

from tidings.privacy.categories import DataCategory
from tidings.privacy.registry import NotPersonal, PersonalData
from tidings.tenancy.models import TenantModel


class EmailKind(models.TextChoices):
    """Mautic's email types: a broadcast goes to segments; a template is sent by campaigns, forms and the API."""

    BROADCAST = "list", "Broadcast to segments"
    TEMPLATE = "template", "Template (campaigns, forms, API)"


class Editor(models.TextChoices):
    """How the body is authored: blocks in the drag-and-drop builder (MJML) or HTML in code mode."""

    BUILDER = "builder", "Drag-and-drop builder"
    CODE = "code", "HTML code"


class AbCriterion(models.TextChoices):
    OPEN_RATE = "open_rate", "Open rate"
    CLICK_RATE = "click_rate", "Click rate"


class Email(TenantModel):
    """An email as its authors edit it. Every save that changes what recipients get bumps `version` and
    freezes the content in an EmailVersion, which sends refer to.

    purpose_key: the consent purpose the email serves (tidings.consent; "marketing_email" by default);
    transactional emails are sent under the contract basis and skip the marketing checks, never the
    suppression list. segment_ids: the segments a broadcast goes to. An A/B variant is an Email whose
    variant_of names its parent; the parent holds the test settings.
    """

    personal_data = NotPersonal("an email's content and settings as authored; personalised at send time")

    name = models.CharField(max_length=191)
    kind = models.CharField(max_length=10, choices=EmailKind.choices, default=EmailKind.TEMPLATE)
    transactional = models.BooleanField(default=False)
    purpose_key = models.CharField(max_length=64, default="marketing_email")
    subject = models.CharField(max_length=998, blank=True, default="")  # RFC 5322's line limit
    preheader = models.CharField(max_length=255, blank=True, default="")
    from_name = models.CharField(max_length=191, blank=True, default="")
    from_address = models.EmailField(max_length=254, blank=True, default="")
    reply_to = models.EmailField(max_length=254, blank=True, default="")
    editor = models.CharField(max_length=10, choices=Editor.choices, default=Editor.CODE)
    source = models.TextField(blank=True, default="")  # the builder's MJML (editor=builder); empty in code mode
    html = models.TextField(blank=True, default="")  # the HTML sent (rendered from source, or written)
    text = models.TextField(blank=True, default="")  # the plain-text body as written; empty: generated from html
    theme = models.CharField(max_length=64, blank=True, default="")
    segment_ids = models.JSONField(default=list, blank=True)
    published = models.BooleanField(default=False)
    version = models.PositiveIntegerField(default=1)
    variant_of = models.BigIntegerField(null=True, blank=True)
    variant_weight = models.PositiveSmallIntegerField(default=0)  # percent of a broadcast's test group
    ab_criterion = models.CharField(max_length=12, choices=AbCriterion.choices, blank=True, default="")
    ab_test_hours = models.PositiveSmallIntegerField(default=0)
    ab_winner_id = models.BigIntegerField(null=True, blank=True)
    created_by = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=now)
    updated_at = models.DateTimeField(default=now)

    class Meta:
        indexes = [
            models.Index(fields=["workspace_id", "name"], name="emails_email_name_idx"),
            models.Index(fields=["workspace_id", "variant_of"], name="emails_email_variant_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class EmailVersion(TenantModel):
    """The content of an email as it was at one version: what its sends rendered (frozen, never edited)."""

    personal_data = NotPersonal("a frozen copy of an email's authored content")

    email_id = models.BigIntegerField()
    number = models.PositiveIntegerField()
    subject = models.CharField(max_length=998, blank=True, default="")
    preheader = models.CharField(max_length=255, blank=True, default="")
    from_name = models.CharField(max_length=191, blank=True, default="")
    from_address = models.EmailField(max_length=254, blank=True, default="")
    reply_to = models.EmailField(max_length=254, blank=True, default="")
    html = models.TextField(blank=True, default="")
    text = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace_id", "email_id", "number"], name="emails_version_uniq"),
        ]


class EmailLink(TenantModel):
    """A link of an email version, numbered when the version is first rendered: a click redirect names the
    link by id and forwards only to its URL (never an open redirect)."""

    personal_data = NotPersonal("a link the authors put in an email")

    email_id = models.BigIntegerField()
    version = models.PositiveIntegerField()
    url = models.CharField(max_length=2000)

    class Meta:
        indexes = [models.Index(fields=["workspace_id", "email_id", "version"], name="emails_link_version_idx")]


class SendStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Sending"
    PAUSED = "paused", "Paused"
    CANCELLED = "cancelled", "Cancelled"
    FINISHED = "finished", "Finished"
    FAILED = "failed", "Failed"


class Send(TenantModel):
    """One run of an email: a broadcast to its segments, or the messages a campaign, form or API call asks for.

    A broadcast walks the recipients in contact-id order and checkpoints the last contact id done
    (listmonk-style), so a restart resumes there. counts: {"sent": n, "failed": n, "skipped:<reason>": n, ...}.
    """

    personal_data = NotPersonal("a send's settings, progress and counts")

    email_id = models.BigIntegerField()
    version = models.PositiveIntegerField()
    broadcast = models.BooleanField(default=True)
    segment_ids = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=10, choices=SendStatus.choices, default=SendStatus.QUEUED)
    checkpoint_contact_id = models.BigIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)  # recipients counted when the send started
    counts = models.JSONField(default=dict, blank=True)
    scheduled_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_by = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=now)
    # The sender running it holds a lease it renews per batch; a lapsed lease on a running send means its
    # worker died, and the periodic resume job picks it up (emails.tasks.resume_abandoned_sends).
    runner = models.CharField(max_length=32, blank=True, default="")
    lease_until = models.DateTimeField(null=True, blank=True)
    # A/B test (decision 0026). The test send of a parent with variants: {"<email id>": version} of the
    # parent and each variant, frozen when the send started; each recipient's arm is chosen from a hash of
    # (send, contact), those past the weights' sum are held. ab_result: what the winner was picked on.
    # The remainder send goes to the held recipients of held_from_send_id with the winner.
    ab_versions = models.JSONField(default=dict, blank=True)
    ab_result = models.JSONField(default=dict, blank=True)
    held_from_send_id = models.BigIntegerField(null=True, blank=True)
    # Lanes (decision 0036): a broadcast sent by n processes at once, lane k walking the recipients whose
    # contact id % n == k. {"n": n, "<k>": {"runner": ..., "lease": iso time, "checkpoint": id, "done": bool}};
    # {} is one lane, which keeps its runner, lease and checkpoint in the columns above. lease_until is then
    # the latest lease of any lane (so nothing else takes the send while one lane still runs).
    lanes = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["workspace_id", "email_id", "created_at"], name="emails_send_email_idx"),
            models.Index(fields=["workspace_id", "status"], name="emails_send_status_idx"),
        ]


class DeliveryStatus(models.TextChoices):
    CLAIMED = "claimed", "Being sent"  # on record before the SMTP transaction; left behind by a crash: in doubt
    SENT = "sent", "Sent"
    SKIPPED = "skipped", "Skipped"
    FAILED = "failed", "Failed"
    IN_DOUBT = "in_doubt", "In doubt (sender stopped mid-message; not sent again)"
    DEFERRED = "deferred", "Deferred (refused for now: retried later)"  # a 4xx or no connection; see sender
    HELD = "held", "Held for the A/B winner"  # an A/B test's remainder: the winner's send takes them


class Delivery(TenantModel):
    """One recipient of one send: unique per (send, contact), which is what makes a send idempotent.

    email_id is the variant actually sent (A/B). tokens_hash: SHA-256 of the token values used, to show
    that what was sent matches a version without keeping the message. Opens, clicks, bounces and complaints
    are counted here (first times kept) and written as contact events when consent allows; the first reply's
    time too (replied_at, whatever the tracking consent: decision 0040).
    """

    personal_data = PersonalData(
        fields={
            "sent_at": DataCategory.BEHAVIOR,
            "opened_at": DataCategory.BEHAVIOR,
            "clicked_at": DataCategory.BEHAVIOR,
            "replied_at": DataCategory.BEHAVIOR,
        },  # fmt: skip
        erase="delete",
        note="who was sent which email, and whether they opened, clicked or replied to it; erasing the contact "
        "deletes these",
    )

    send_id = models.BigIntegerField()
    email_id = models.BigIntegerField()
    contact_id = models.BigIntegerField()
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.CLAIMED)
    reason = models.CharField(max_length=32, blank=True, default="")  # why skipped or failed: a code, no value
    tokens_hash = models.BinaryField(max_length=32, null=True, blank=True)
    message_id = models.CharField(max_length=255, blank=True, default="")
    sent_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    open_count = models.PositiveIntegerField(default=0)
    clicked_at = models.DateTimeField(null=True, blank=True)
    click_count = models.PositiveIntegerField(default=0)
    # The first reply's time (decision 0040: recorded whatever the tracking consent; nothing of the reply is kept).
    replied_at = models.DateTimeField(null=True, blank=True)
    bounced = models.CharField(max_length=4, blank=True, default="")  # "hard" / "soft"
    complained = models.BooleanField(default=False)
    unsubscribed = models.BooleanField(default=False)
    # A transient refusal (SMTP 4xx, no connection): tried `attempts` times, next at retry_at (retries.retry_deferred).
    attempts = models.PositiveSmallIntegerField(default=0)
    retry_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace_id", "send_id", "contact_id"], name="emails_delivery_uniq"),
        ]
        indexes = [
            models.Index(fields=["workspace_id", "contact_id", "sent_at"], name="emails_delivery_contact_idx"),
            models.Index(fields=["workspace_id", "email_id", "status"], name="emails_delivery_email_idx"),
            models.Index(
                fields=["workspace_id", "retry_at"],
                name="emails_delivery_retry_idx",
                condition=models.Q(retry_at__isnull=False),
            ),
        ]


class SuppressionReason(models.TextChoices):
    HARD_BOUNCE = "hard_bounce", "Hard bounce"
    SOFT_BOUNCES = "soft_bounces", "Repeated soft bounces"
    COMPLAINT = "complaint", "Complaint"
    MANUAL = "manual", "Added by a member"
    ERASED = "erased", "The person asked to be erased"


class Suppression(TenantModel):
    """An address no email may go to, whichever contact holds it now (a re-imported contact stays suppressed).

    The address is kept only as a keyed hash of the normalised email, never in clear. Erasing the contact
    keeps the row without its contact id (that is how an erased person is not re-imported or re-mailed);
    the privacy issue's erasure adds a row with reason "erased". The hash must use a key of its own, not
    the contacts' blind-index key, so that no blind-index value of an erased person remains anywhere.
    """

    personal_data = PersonalData(
        fields={"email_index": DataCategory.EMAIL},
        erase="anonymise",
        export="skip",
        note="a keyed hash of an address that must not be mailed (bounce, complaint, erasure); erasing the contact "
        "keeps the hash and drops the link to the contact",
    )

    contact_id = models.BigIntegerField(null=True, blank=True)
    email_index = models.BinaryField(max_length=32)
    reason = models.CharField(max_length=16, choices=SuppressionReason.choices)
    soft_bounces = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=now)
    updated_at = models.DateTimeField(default=now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace_id", "email_index"], name="emails_suppression_uniq"),
        ]
        indexes = [models.Index(fields=["workspace_id", "contact_id"], name="emails_suppression_contact_idx")]


class CountKind(models.TextChoices):
    OPENED = "opened", "Opens"
    CLICKED = "clicked", "Clicks"
    REPLIED = "replied", "Replies"  # a delivery's first reply only (decision 0040)


class EmailCount(TenantModel):
    """Opens, clicks and replies of an email (the variant sent) per day, counted for every message whatever the
    contact's consent: no contact id, so a count says nothing about anyone (decision 0024). Per-contact
    opens and clicks live on Delivery, written only when the contact allows tracking; replies count a
    delivery's first reply only (decision 0040), and outlive an erased contact's Delivery."""

    personal_data = NotPersonal("aggregate daily counts of opens, clicks and replies of an email, with no contact id")

    email_id = models.BigIntegerField()
    day = models.DateField()
    kind = models.CharField(max_length=8, choices=CountKind.choices)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace_id", "email_id", "day", "kind"], name="emails_count_uniq"),
        ]


# ==============================================================================================
# Sending settings (helper "send")


class SendingBackend(models.TextChoices):
    """Where a workspace's messages go: the platform's SMTP server, or an ESP through django-anymail."""

    SMTP = "smtp", "SMTP server (the workspace's own, else the installation's)"
    AMAZON_SES = "amazon_ses", "Amazon SES"
    MAILGUN = "mailgun", "Mailgun"
    POSTMARK = "postmark", "Postmark"
    SENDGRID = "sendgrid", "SendGrid"
    BREVO = "brevo", "Brevo"
    SPARKPOST = "sparkpost", "SparkPost"


class SendingSettings(TenantModel):
    """A workspace's sending settings: default sender, domains, backend, pace, frequency cap and DKIM key.

    One row per workspace, created with defaults on first read. The DKIM private key is sealed like
    other secrets at rest: AES-GCM under a file key wrapped by the workspace key
    (Keyring.new_file_key, name "emails.dkim:<workspace id>"), so a database dump does not hold it in clear.
    """

    personal_data = NotPersonal("a workspace's sending configuration; the DKIM key is sealed")

    from_name = models.CharField(max_length=191, blank=True, default="")
    from_address = models.EmailField(max_length=254, blank=True, default="")
    sending_domains = models.JSONField(default=list, blank=True)  # domains the workspace may send from
    backend = models.CharField(max_length=16, choices=SendingBackend.choices, default=SendingBackend.SMTP)
    connections = models.PositiveSmallIntegerField(default=4)  # parallel SMTP connections of one send
    rate_per_second = models.PositiveIntegerField(default=0)  # 0: as fast as the server takes them
    cap_count = models.PositiveSmallIntegerField(default=0)  # at most this many marketing emails... (0: no cap)
    cap_days = models.PositiveSmallIntegerField(default=7)  # ...per contact in this many days
    dkim_domain = models.CharField(max_length=253, blank=True, default="")
    dkim_selector = models.CharField(max_length=63, blank=True, default="")
    dkim_key_version = models.PositiveIntegerField(null=True, blank=True)
    dkim_key_wrapped = models.BinaryField(null=True, blank=True)
    dkim_key_sealed = models.BinaryField(null=True, blank=True)
    # The workspace's own SMTP/ESP credentials and webhook secret, sealed the same way (tidings.emails.credentials);
    # credential_parts names the parts set (never a value), for the settings page.
    credential_parts = models.JSONField(default=list, blank=True)
    credentials_key_version = models.PositiveIntegerField(null=True, blank=True)
    credentials_key_wrapped = models.BinaryField(null=True, blank=True)
    credentials_sealed = models.BinaryField(null=True, blank=True)
    updated_at = models.DateTimeField(default=now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace_id"], name="emails_sendingsettings_uniq")]

    @property
    def dkim_configured(self) -> bool:
        return bool(self.dkim_domain and self.dkim_selector and self.dkim_key_sealed)

    @property
    def webhook_secret_set(self) -> bool:
        return "webhook_secret" in (self.credential_parts or [])
