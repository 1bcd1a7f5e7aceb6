"""Sending one logged email: at least once, and every copy with the same ``Message-ID``.

A send goes through five steps, in this order, each a separate statement or network
exchange that a worker can die between:

1. ``claimed``: the :class:`EmailLog` row for the key is created or locked, and its
   ``attempts`` counted, in a transaction of its own (a row already ``sent`` ends here);
2. ``rendered``: subject, text and HTML are rendered and the message is built, with a
   ``Message-ID`` derived from the key alone (:func:`message_id_for`);
3. ``connected``: the SMTP connection is open;
4. ``delivered``: the server accepted the message (``DATA`` answered 250);
5. ``marked``: the row is marked ``sent``.

The task that calls this is ``acks_late``: a worker killed at any point leaves the task
unacknowledged, and the broker hands it to another worker (after the visibility timeout).
Killed before step 4, nothing has left and the next attempt sends it. Killed between 4
and 5, the server has the message and the next attempt sends it again: no SMTP exchange
and database write can be made one, so this window cannot be closed; the copy carries
the same ``Message-ID`` and the same ``X-Parley-Email-Key``, which is how receiving
systems (and people) recognise it as the same message. docs/email.md states the
guarantee.

``STEP_HOOKS`` lets a test stop a worker at a named step (tests/email_worker_app.py);
production never sets one.
"""

import hashlib
from collections.abc import Callable
from email.utils import parseaddr

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives, get_connection
from django.db import transaction
from django.utils import timezone

from notifications.models import EmailLog

STEPS = ("claimed", "rendered", "connected", "delivered", "marked")

# Called as hook(step, key) after each step; tests only.
STEP_HOOKS: list[Callable[[str, str], None]] = []


def message_id_for(key: str) -> str:
    """The ``Message-ID`` of the email logged under ``key``: the same on every attempt."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:40]
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "parley.local"
    return f"<parley.{digest}@{domain}>"


def send_logged_email(
    *,
    key: str,
    to: str,
    template: str,
    render_parts: Callable[[], tuple[str, str, str] | EmailMessage],
) -> str:
    """Send the email logged under ``key`` unless the log says it was sent.

    ``render_parts()`` returns ``(subject, text, html)`` or a built ``EmailMessage``
    (for attachments and extra headers); it runs only if the email still has to go.
    SMTP errors are noted on the row and propagate, so the calling task retries.
    Returns ``"sent"`` or ``"already sent"``.
    """
    log = _claim(key=key, to=to, template=template)
    if log is None:
        return "already sent"
    _step("claimed", key)
    message = _message(render_parts(), to=log.to)
    message.extra_headers["Message-ID"] = message_id_for(key)
    message.extra_headers["X-Parley-Email-Key"] = key
    _step("rendered", key)
    connection = get_connection()
    try:
        connection.open()
        _step("connected", key)
        connection.send_messages([message])
    except Exception as exc:
        EmailLog.objects.filter(pk=log.pk).update(last_error=repr(exc)[:1000])
        raise
    finally:
        connection.close()
    _step("delivered", key)
    EmailLog.objects.filter(pk=log.pk).update(
        status=EmailLog.Status.SENT,
        subject=message.subject[:200],
        sent_at=timezone.now(),
        last_error="",
    )
    _step("marked", key)
    return "sent"


def _claim(*, key: str, to: str, template: str) -> EmailLog | None:
    """Create or lock the row and count the attempt; None if it was sent already."""
    with transaction.atomic():
        log, _ = EmailLog.objects.select_for_update().get_or_create(
            key=key, defaults={"to": to, "template": template}
        )
        if log.status == EmailLog.Status.SENT:
            return None
        log.attempts += 1
        log.save(update_fields=["attempts"])
    return log


def _message(parts, *, to: str) -> EmailMessage:
    if isinstance(parts, EmailMessage):
        if not parts.to:
            parts.to = [to]
        return parts
    subject, text, html = parts
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [to])
    message.attach_alternative(html, "text/html")
    return message


def _step(step: str, key: str) -> None:
    for hook in STEP_HOOKS:
        hook(step, key)
