"""The key store of the personal-data vault, and the lawful bases data is collected under.

Key hierarchy (see tidings/privacy/vault.py and docs/contacts-and-privacy.md):

    master key (settings.TIDINGS_MASTER_KEY, outside every database)
      └─ wraps WorkspaceKey(kind=kek, version=n)    one active version per workspace
      │    └─ wraps ContactKey.wrapped_dek          one data key per contact
      └─ wraps WorkspaceKey(kind=index, version=1)  the blind-index key, never rotated
"""

from __future__ import annotations

from django.db import models

from tidings.privacy.registry import PersonalData
from tidings.tenancy.models import TenantModel


class LawfulBasis(models.TextChoices):
    """GDPR Art. 6(1) lawful bases; imports and forms record the one data was collected under."""

    CONSENT = "consent", "Consent"
    CONTRACT = "contract", "Performance of a contract"
    LEGAL_OBLIGATION = "legal_obligation", "Legal obligation"
    VITAL_INTERESTS = "vital_interests", "Vital interests"
    PUBLIC_TASK = "public_task", "Public task"
    LEGITIMATE_INTERESTS = "legitimate_interests", "Legitimate interests"


class KeyKind(models.TextChoices):
    KEK = "kek", "Key-encryption key (wraps contact data keys)"
    INDEX = "index", "Blind-index key (HMAC of normalised values)"


class WorkspaceKey(TenantModel):
    """A workspace key, wrapped (AES-256-GCM) under the master key whose fingerprint it records."""

    kind = models.CharField(max_length=5, choices=KeyKind.choices)
    version = models.PositiveIntegerField()
    wrapped_key = models.BinaryField(max_length=60)
    master_fingerprint = models.CharField(max_length=16)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace_id", "kind", "version"], name="privacy_wskey_version_unique")
        ]


class ContactKey(TenantModel):
    """A contact's data key (DEK), wrapped under version key_version of the workspace key.

    Deleting this row is crypto-shredding: every copy of the contact's ciphertext, in the
    database, its backups and exports of it, becomes unreadable.
    """

    personal_data = PersonalData(
        fields={},
        erase="delete",
        export="skip",
        merge="skip",
        note="the data key itself; deleting it shreds every ciphertext of the contact",
    )

    contact_id = models.BigIntegerField()
    key_version = models.PositiveIntegerField()
    wrapped_dek = models.BinaryField(max_length=60)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace_id", "contact_id"], name="privacy_contactkey_unique"),
        ]
        indexes = [models.Index(fields=["workspace_id", "key_version", "id"], name="privacy_ck_version_idx")]
