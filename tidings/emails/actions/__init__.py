"""Emails' writes: authoring, sending and feedback, one module each."""
