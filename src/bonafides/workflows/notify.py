"""Notifications: stored for the API and portal, and mailed when SMTP is configured.

Workflows write a notification in their own transaction (``Notifier``), so a message
exists exactly when the step it reports happened. Mail goes out afterwards from that
table (an outbox): an SMTP server that is down delays e-mail but never undoes or blocks
a decision, and ``deliver`` retries what failed.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bonafides.security import audit
from bonafides.security.clock import Clock
from bonafides.security.roles import Principal
from bonafides.settings import Settings
from bonafides.store.tables import Account, Notification

NO_MAIL = "none"
PENDING = "pending"
SENT = "sent"
FAILED = "failed"


@dataclass(frozen=True)
class Note:
    account_id: int
    topic: str
    title: str
    body: str
    object_ref: str | None = None


class Notifier(Protocol):
    def notify(self, session: Session, note: Note) -> None: ...


@dataclass(frozen=True)
class StoredNotifier:
    """Writes the notification; marks it for mail when mail is on and the account has an
    address."""

    clock: Clock
    mail_enabled: bool = False

    def notify(self, session: Session, note: Note) -> None:
        email = session.scalar(select(Account.email).where(Account.id == note.account_id))
        session.add(
            Notification(
                account_id=note.account_id,
                topic=note.topic,
                title=note.title[:200],
                body=note.body,
                object_ref=note.object_ref,
                created_at=self.clock.now(),
                mail_status=PENDING if self.mail_enabled and email else NO_MAIL,
            )
        )


class Mailer(Protocol):
    def send(self, to: str, subject: str, body: str) -> None: ...


@dataclass(frozen=True)
class SmtpMailer:
    host: str
    port: int
    sender: str
    starttls: bool = True
    username: str | None = None
    password: str | None = None
    timeout: float = 10.0

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpMailer | None:
        if not settings.smtp_host:
            return None
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.smtp_from,
            starttls=settings.smtp_starttls,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
        )

    def send(self, to: str, subject: str, body: str) -> None:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = subject
        message.set_content(body)
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(message)


@dataclass(frozen=True)
class Delivery:
    sent: int
    failed: int


def deliver(session: Session, mailer: Mailer, clock: Clock, *, limit: int = 200) -> Delivery:
    """Mail pending (and earlier failed) notifications; each outcome is recorded."""
    rows = session.execute(
        select(Notification, Account.email)
        .join(Account, Account.id == Notification.account_id)
        .where(Notification.mail_status.in_((PENDING, FAILED)))
        .order_by(Notification.id)
        .limit(limit)
    ).all()
    sent = failed = 0
    for note, email in rows:
        if not email:
            note.mail_status = NO_MAIL
            continue
        try:
            mailer.send(email, note.title, note.body)
        except (OSError, smtplib.SMTPException) as exc:
            note.mail_status = FAILED
            note.mail_error = f"{type(exc).__name__}: {exc}"[:300]
            failed += 1
        else:
            note.mail_status = SENT
            note.mailed_at = clock.now()
            note.mail_error = None
            sent += 1
    return Delivery(sent, failed)


def for_account(session: Session, account_id: int, *, limit: int = 100) -> list[Notification]:
    return list(
        session.scalars(
            select(Notification)
            .where(Notification.account_id == account_id)
            .order_by(Notification.id.desc())
            .limit(limit)
        )
    )


def unread_count(session: Session, account_id: int) -> int:
    """Counted in the database: the portal shows it on every signed-in page."""
    found = session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(Notification.account_id == account_id, Notification.read_at.is_(None))
    )
    return int(found or 0)


def mark_read(session: Session, clock: Clock, principal: Principal, notification_id: int) -> bool:
    """Mark one of the principal's own notifications read; False for anyone else's. A
    write like any other, so it goes on the audit chain (once, when it changes)."""
    note = session.get(Notification, notification_id)
    if note is None or principal.account_id is None or note.account_id != principal.account_id:
        return False
    if note.read_at is None:
        note.read_at = clock.now()
        audit.append(
            session,
            actor=principal.actor,
            tag="notification:notification:read",
            object_ref=f"notification {notification_id}",
        )
    return True
