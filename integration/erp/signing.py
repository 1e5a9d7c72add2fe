"""HMAC signing of the messages the MES sends to the ERP.

Pure Python (no Django), so the sender, the ERP simulator and the tests share one definition.
The signed text is ``"<timestamp>." + body``: binding the timestamp into the MAC lets the
receiver refuse stale requests without trusting an unsigned header.
"""

import hashlib
import hmac

TIMESTAMP_HEADER = "X-MES-Timestamp"
SIGNATURE_HEADER = "X-MES-Signature"
MAX_SKEW_SECONDS = 300

_SCHEME = "sha256="


def sign(body: bytes, secret: str, timestamp: int) -> str:
    """Hex HMAC-SHA256 of ``f"{timestamp}." + body`` under ``secret``."""
    message = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(body: bytes, secrets: list[str], timestamp: int) -> str:
    """One ``sha256=<hex>`` entry per secret, so either side of a rotation can verify."""
    return ",".join(_SCHEME + sign(body, secret, timestamp) for secret in secrets)


def parse_signature_header(header: str) -> list[str]:
    """The hex digests of the ``sha256=`` entries; entries of other schemes are ignored."""
    entries = (entry.strip() for entry in header.split(","))
    return [entry.removeprefix(_SCHEME) for entry in entries if entry.startswith(_SCHEME)]


def verify(body: bytes, header: str, secrets: list[str], timestamp: int) -> bool:
    """True if any entry of ``header`` matches the signature under any of ``secrets``."""
    expected = [sign(body, secret, timestamp) for secret in secrets]
    # Bytes, because compare_digest refuses non-ASCII str and the header is attacker-chosen.
    return any(
        hmac.compare_digest(given.encode(), wanted.encode())
        for given in parse_signature_header(header)
        for wanted in expected
    )
