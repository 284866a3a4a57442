"""`manage.py pdpa export|erase --line-user-id U…` — a customer's personal data from a shell.

A request under the PDPA usually names the customer by their LINE user id; this finds the contact
by it (or by `--contact-id`) and does what the console's supervisors do: export everything held as
JSON (to stdout, or `--output FILE`), or erase it. Both are written to the audit log, the actor
named "command-line" with the operating-system user who ran it.
"""

import getpass
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from livechat.conversations import personal_data
from livechat.models import Contact


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name (a container without a passwd entry)
        return "unknown"


class Command(BaseCommand):
    help = "Export (JSON) or erase everything held about one customer, found by LINE user id."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["export", "erase"])
        who = parser.add_mutually_exclusive_group(required=True)
        who.add_argument("--line-user-id", help="The customer's LINE user id (U followed by 32 hex digits).")
        who.add_argument("--contact-id", type=int, help="The contact's id in this app.")
        parser.add_argument("--output", help="export: write the JSON to this file instead of stdout.")
        parser.add_argument(
            "--noinput",
            "--no-input",
            action="store_false",
            dest="interactive",
            help="erase: do not ask for confirmation.",
        )

    def handle(
        self,
        *args: Any,
        action: str,
        line_user_id: str | None = None,
        contact_id: int | None = None,
        output: str | None = None,
        interactive: bool = True,
        **options: Any,
    ) -> None:
        contact = personal_data.find(contact_id=contact_id, line_user_id=line_user_id)
        if contact is None:
            raise CommandError("No such contact.")
        by = personal_data.Requester(name=f"command-line ({_os_user()})")
        if action == "export":
            self._export(contact, by, output)
            return
        if interactive:
            answer = input(
                f"Erase the messages, media files and profile of contact {contact.pk} "
                f"({contact.display_name or contact.line_user_id})? Open conversations are closed. "
                "This cannot be undone. Type 'yes' to go on: "
            )
            if answer.strip().lower() != "yes":
                raise CommandError("Nothing erased.")
        erased = personal_data.erase(contact, by)
        self.stdout.write(json.dumps({"contact_id": contact.pk, "erased": erased}))

    def _export(self, contact: Contact, by: personal_data.Requester, output: str | None) -> None:
        chunks = personal_data.export(contact, by)
        if output is None:
            for chunk in chunks:
                self.stdout.write(chunk, ending="")
            return
        with open(output, "w", encoding="utf-8") as file:
            file.writelines(chunks)
        self.stderr.write(f"Exported contact {contact.pk} to {output}")
