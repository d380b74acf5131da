"""``python manage.py create_instructor NAME``: an account that may host classrooms.

Prompts for the password twice; ``--password`` gives it on the command line for
scripts.  Run again for an existing name, it sets the new password and keeps the
account an instructor.
"""

from __future__ import annotations

import getpass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Create (or update) an instructor account that can start classrooms."

    def add_arguments(self, parser):
        parser.add_argument("name", help="the instructor's user name")
        parser.add_argument("--password", help="the password, for scripts (otherwise you are asked for it)")

    def handle(self, *args, name: str, password: str | None, **options):
        name = name.strip()
        if not name or len(name) > 150:
            raise CommandError("the name must have 1 to 150 characters")
        if password is None:
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                raise CommandError("the passwords differ")
        User = get_user_model()
        user = User.objects.filter(username=name).first()
        try:
            validate_password(password, user or User(username=name))
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        created = user is None
        if created:
            user = User.objects.create_user(username=name, password=password)
        else:
            user.set_password(password)
            user.is_active = True
            user.save()
        user.user_permissions.add(Permission.objects.get(codename="host_room", content_type__app_label="classroom"))
        self.stdout.write(f"Instructor {name} {'created' if created else 'updated'}.")
