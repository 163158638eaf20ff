"""System checks for production settings that Django's own checks don't know."""

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register


@register(Tags.security, deploy=True)
def audit_key_check(app_configs, **kwargs):
    if not settings.AUDIT_HMAC_KEY:
        return [
            Error(
                "AUDIT_HMAC_KEY is not set, so the audit chain is sealed with a key "
                "derived from SECRET_KEY: rotating SECRET_KEY would make every "
                "event fail verify_audit.",
                hint="Set AUDIT_HMAC_KEY (and AUDIT_HMAC_KEY_ID) in the environment; "
                "`manage.py audit_key_rotate` prints a fresh key.",
                id="consilium.E001",
            )
        ]
    if len(settings.AUDIT_HMAC_KEY) < 32:
        return [
            Warning(
                "AUDIT_HMAC_KEY is shorter than 32 characters.",
                hint="Use `manage.py audit_key_rotate` to make a long random key.",
                id="consilium.W001",
            )
        ]
    return []
