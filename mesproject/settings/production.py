"""Production mode: secrets from the environment, HTTPS only, no debug."""

from .base import *  # noqa: F403
from .env import env_bool, env_int, env_required

DEBUG = False
SECRET_KEY = env_required("SECRET_KEY")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# The development signing secret would let anyone forge messages the ERP trusts.
if MES_ERP_ENDPOINT_URL:  # noqa: F405
    MES_ERP_SIGNING_SECRETS = env_required("MES_ERP_SIGNING_SECRETS").split(",")
