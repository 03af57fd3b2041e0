"""Mautic's wire format on top of Tidings' actions and selectors: no business logic of its own.

Start with tidings.mautic_compat.decorators (the endpoint base), parsing (list parameters and
bodies) and responses (errors, list envelopes, the Mautic-Version header).
"""
