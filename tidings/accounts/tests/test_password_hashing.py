"""Passwords are hashed with Argon2 in production; the suite's fast hasher is for tests only."""

import importlib

from django.contrib.auth.hashers import check_password, identify_hasher

PRODUCTION = importlib.import_module("tidings.settings").PASSWORD_HASHERS


def test_production_hashes_new_passwords_with_argon2():
    assert PRODUCTION[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


def test_a_user_created_under_the_production_hashers_gets_an_argon2_hash(settings, make_user):
    settings.PASSWORD_HASHERS = PRODUCTION

    user = make_user("hashed@acme.example", password="a long enough passphrase")

    assert identify_hasher(user.password).algorithm == "argon2"
    assert check_password("a long enough passphrase", user.password)
    assert not check_password("another passphrase", user.password)
