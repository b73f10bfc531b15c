"""The Content-Security-Policy of the pages datalab serves (the dashboard, the demo shop).

Everything they load comes from datalab itself: scripts and styles as files (no inline script,
no inline <style>; styles set from script through the CSSOM are not inline styles), the API and
the websockets on the same origin. Nobody may frame them.
"""

from __future__ import annotations

import functools

POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def content_security_policy(view):
    """Decorate a view whose HTML pages get the policy."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response.setdefault("Content-Security-Policy", POLICY)
        return response

    return wrapped
