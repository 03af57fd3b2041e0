"""Tidings: privacy-first, multi-tenant marketing automation."""
