"""Handing one message to the SMTP server step by step, so that a failure says whether it may have arrived.

smtplib's `sendmail` raises the same `SMTPServerDisconnected` whether the server went away
before the message was handed over (a 421 on the previous message closed the connection,
the relay dropped an idle connection) or after the whole body was sent and before the
server answered. Only the second can have delivered the message; only such rows are
recorded as "possibly sent twice" when they are sent again.
"""

import re
import smtplib

_LEADING_DOT = re.compile(rb"(?m)^\.")
# An address smtplib would quote as <address> after parsing it: nothing a parser would read differently.
_PLAIN_ADDRESS = re.compile(r"[^\s<>()\[\]\\,;:\"@]+@[^\s<>()\[\]\\,;:\"@]+")


class ConnectionLost(Exception):
    """The connection ended while sending; `may_have_arrived` when the body had been sent and no answer came."""

    def __init__(self, cause: BaseException, *, may_have_arrived: bool):
        super().__init__(f"{type(cause).__name__}: {cause}")
        self.cause = cause
        self.may_have_arrived = may_have_arrived


def _closing(smtp: smtplib.SMTP, cause: BaseException) -> ConnectionLost:
    try:
        smtp.close()
    except OSError:
        pass
    return ConnectionLost(cause, may_have_arrived=False)


def _reset(smtp: smtplib.SMTP) -> None:
    try:
        smtp.rset()
    except (smtplib.SMTPServerDisconnected, OSError):
        pass  # the next message finds the connection gone and reconnects


def _address(address: str) -> str:
    """The address as MAIL FROM / RCPT TO take it: smtplib's quoting, without its parser for a plain address."""
    return f"<{address}>" if _PLAIN_ADDRESS.fullmatch(address) else smtplib.quoteaddr(address)


def _drain(smtp: smtplib.SMTP, replies: int) -> None:
    """Read the replies still due for pipelined commands after a refusal, so the next message reads its own.

    A server that answers DATA with 354 although nobody can receive the message gets an empty one
    (RFC 2920, 3.1), which it refuses.
    """
    code = 0
    for _ in range(replies):
        code, reply = smtp.getreply()
        if code == 421:
            raise _closing(smtp, smtplib.SMTPResponseException(code, reply))
    if code == 354:
        smtp.send(b".\r\n")
        smtp.getreply()


def sendmail_tracked(smtp: smtplib.SMTP, sender: str, recipients: list[str], raw: bytes) -> None:
    """`smtp.sendmail(sender, recipients, raw)` with the same refusals, raising ConnectionLost for a lost connection.

    Replies the server gives (4xx, 5xx) are raised as smtplib's exceptions: the server said
    no, so nothing arrived. A 421 reply also closes the connection (ConnectionLost, not arrived).
    A server that offers PIPELINING (RFC 2920; every common relay does) gets MAIL, RCPT and DATA
    in one write and their replies read in order: two round trips a message instead of four.
    """
    body_sent = False
    try:
        smtp.ehlo_or_helo_if_needed()
        options = f" size={len(raw)}" if smtp.does_esmtp and smtp.has_extn("size") else ""
        pipelined = smtp.does_esmtp and smtp.has_extn("pipelining")
        if pipelined:
            envelope = [f"mail FROM:{_address(sender)}{options}\r\n"]
            envelope += [f"rcpt TO:{_address(recipient)}\r\n" for recipient in recipients]
            smtp.send("".join(envelope) + "data\r\n")  # each command is answered, in order, whatever came before
        else:
            smtp.putcmd("mail", f"FROM:{_address(sender)}{options}")
        code, reply = smtp.getreply()
        if code == 421:
            raise _closing(smtp, smtplib.SMTPSenderRefused(code, reply, sender))
        if code != 250:
            if pipelined:
                _drain(smtp, len(recipients) + 1)
            _reset(smtp)
            raise smtplib.SMTPSenderRefused(code, reply, sender)
        refused = {}
        for recipient in recipients:
            code, reply = smtp.getreply() if pipelined else smtp.rcpt(recipient)
            if code == 421:
                raise _closing(smtp, smtplib.SMTPRecipientsRefused({recipient: (code, reply)}))
            if code not in (250, 251):
                refused[recipient] = (code, reply)
        if len(refused) == len(recipients):
            if pipelined:
                _drain(smtp, 1)  # DATA was on its way
            _reset(smtp)
            raise smtplib.SMTPRecipientsRefused(refused)
        if not pipelined:
            smtp.putcmd("data")
        code, reply = smtp.getreply()
        if code == 421:
            raise _closing(smtp, smtplib.SMTPDataError(code, reply))
        if code != 354:
            _reset(smtp)
            raise smtplib.SMTPDataError(code, reply)
        body = _LEADING_DOT.sub(b"..", raw)
        if not body.endswith(b"\r\n"):
            body += b"\r\n"
        smtp.send(body + b".\r\n")
        body_sent = True
        code, reply = smtp.getreply()
    except (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused):
        raise  # the server answered: nothing arrived (smtplib's exceptions are OSErrors too)
    except OSError as exc:
        # Before the body went out, the server cannot have the message; after it, nobody knows.
        raise ConnectionLost(exc, may_have_arrived=body_sent) from exc
    if code == 421:
        raise _closing(smtp, smtplib.SMTPDataError(code, reply))
    if code != 250:
        _reset(smtp)
        raise smtplib.SMTPDataError(code, reply)
