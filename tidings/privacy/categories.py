"""Personal-data categories in the spirit of the fideslang taxonomy, and what each one implies.

A field's category decides two things: whether its values are encrypted under the contact's
data key (identifying and special categories), and whether defining the field needs an explicit
acknowledgment (financial, health and government-id data).
"""

from __future__ import annotations

from django.db import models


class DataCategory(models.TextChoices):
    NONE = "", "Not personal data"
    EMAIL = "user.contact.email", "Email address"
    NAME = "user.name", "Name"
    PHONE = "user.contact.phone_number", "Phone number"
    ADDRESS = "user.contact.address", "Street address"
    CITY = "user.contact.address.city", "City"
    STATE = "user.contact.address.state", "State or region"
    POSTAL_CODE = "user.contact.address.postal_code", "Postal code"
    COUNTRY = "user.contact.address.country", "Country"
    URL = "user.contact.url", "Web address"
    CONTACT = "user.contact", "Other contact details"
    IP_ADDRESS = "user.device.ip_address", "IP address"
    DEVICE = "user.device", "Device identifiers"
    UNIQUE_ID = "user.unique_id", "Identifier unique to the person"
    GOVERNMENT_ID = "user.government_id", "Government identifier"
    FINANCIAL = "user.financial", "Financial data"
    HEALTH = "user.health_and_medical", "Health and medical data"
    DEMOGRAPHIC = "user.demographic", "Demographic data"
    LANGUAGE = "user.demographic.language", "Language"
    LOCATION = "user.location", "Approximate location"
    JOB_TITLE = "user.job_title", "Job title"
    WORKPLACE = "user.workplace", "Workplace"
    BEHAVIOR = "user.behavior", "Behaviour and preferences"
    NOTES = "user.content", "Free text written about the person"
    SYSTEM = "system.operations", "Operational data (owner, stage, scores)"


# Values in these categories identify a person directly: stored encrypted, found only by blind index.
ENCRYPTED_CATEGORIES = frozenset(
    {
        DataCategory.EMAIL,
        DataCategory.NAME,
        DataCategory.PHONE,
        DataCategory.ADDRESS,
        DataCategory.CONTACT,
        DataCategory.IP_ADDRESS,
        DataCategory.DEVICE,
        DataCategory.UNIQUE_ID,
        DataCategory.GOVERNMENT_ID,
        DataCategory.FINANCIAL,
        DataCategory.HEALTH,
        DataCategory.NOTES,
    }
)

# Special categories: a field may only be defined with them after an explicit acknowledgment.
SENSITIVE_CATEGORIES = frozenset({DataCategory.FINANCIAL, DataCategory.HEALTH, DataCategory.GOVERNMENT_ID})


def is_encrypted_category(category: str) -> bool:
    """Return whether values of category are stored encrypted under the contact's data key."""
    return category in ENCRYPTED_CATEGORIES


def needs_acknowledgment(category: str) -> bool:
    """Return whether defining a field of category needs the customer's explicit acknowledgment."""
    return category in SENSITIVE_CATEGORIES
