import pytest


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # Factory users hash a password each; PBKDF2 makes that ~0.3 s a user on a busy machine.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
