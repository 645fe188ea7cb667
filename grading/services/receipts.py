"""A submitted attempt's receipt, sent to its student by e-mail (Django's e-mail backend: the
console in development, SMTP where DJANGO_EMAIL_BACKEND says so)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.utils.translation import gettext as _

from grading.models import Submission


def receipt_send(*, submission: Submission, subject: str, body: str) -> str:
    """E-mail ``body`` (the attempt's receipt) to the attempt's own student; returns the address.

    Refused (ValidationError) for a draft or a student without an e-mail address. Sent at once,
    not after a commit: nothing is written, and the student waits to be told it went.
    """
    if submission.is_draft or not submission.receipt:
        raise ValidationError(_("Only a submitted attempt has a receipt."), code="draft")
    address = submission.student.email
    if not address:
        raise ValidationError(_("Your account has no e-mail address: download the receipt instead."),
                              code="no_address")
    try:
        send_mail(subject, body, None, [address], fail_silently=False)
    except OSError as exc:  # SMTP down, refused: say so, lose nothing (the download still works)
        raise ValidationError(_("The e-mail could not be sent: download the receipt instead."),
                              code="not_sent") from exc
    return address
