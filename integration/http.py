"""The one HTTP client of the integration: the relay's posts to the ERP, the scale unit's calls
to the hub (the standard library's urllib: two JSON calls need no client library)."""

import urllib.error
import urllib.request


def http_call(
    url: str,
    *,
    method: str,
    headers: dict,
    timeout: float,
    body: bytes | None = None,
    limit: int | None = None,
) -> tuple[int, bytes]:
    """(status, body) of the answer, an error status (4xx, 5xx) included; at most `limit`
    bytes of the body are read. Raises OSError when no answer came (refused, timed out)."""
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return answer.status, answer.read(limit)
    except urllib.error.HTTPError as error:
        return error.code, error.read(limit)
