"""Test mode: the same as base, with fast hashing. DATABASE_URL / REDIS_URL still apply."""

from .base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DEBUG = False
