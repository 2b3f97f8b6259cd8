"""A real SMTP server for a developer's machine and the tests (aiosmtpd): it
accepts every message and keeps each as a file, `<Message-ID>.eml`, in a
folder (`make run`: data/mail).  A message sent twice with the same
Message-ID is the same file, as a mail client shows the same message once.

    dps smtp [--port 1025] [--folder data/mail]
"""

from __future__ import annotations

import email
import email.policy
import re
from pathlib import Path

from aiosmtpd.controller import Controller

_UNSAFE = re.compile(r"[^A-Za-z0-9@._-]")


class _KeepAsFiles:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        name = _UNSAFE.sub("_", (message["Message-ID"] or "").strip("<> ")) or f"no-id-{id(envelope)}"
        path = self.folder / f"{name}.eml"
        temporary = path.with_suffix(".part")
        temporary.write_bytes(envelope.content)
        temporary.replace(path)  # whole or not at all
        return "250 Message accepted for delivery"


class LocalMailServer:
    """Start it, send to host:port, read `messages()`; stop it."""

    def __init__(self, folder: Path, host: str = "127.0.0.1", port: int = 1025) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.controller = Controller(_KeepAsFiles(self.folder), hostname=host, port=port)

    @property
    def port(self) -> int:
        return self.controller.port

    def start(self) -> LocalMailServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def messages(self) -> list[email.message.EmailMessage]:
        return self.read(self.folder)

    @staticmethod
    def read(folder: Path) -> list[email.message.EmailMessage]:
        """The messages kept in `folder` (e.g. data/mail), as a mail client reads them: in the order they
        arrived (a file's name is its Message-ID, which says nothing of order)."""
        paths = sorted(Path(folder).glob("*.eml"), key=lambda path: (path.stat().st_mtime_ns, path.name))
        return [email.message_from_bytes(path.read_bytes(), policy=email.policy.default) for path in paths]
