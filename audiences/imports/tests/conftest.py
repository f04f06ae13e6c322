"""The cast of the directory import's tests: an importer, who may upload and apply HR exports."""

import pytest
from django.contrib.auth.models import Permission


@pytest.fixture
def importer(make_user):
    user = make_user("importer", first_name="Ingrid", last_name="Import")
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="audiences", codename__in=["add_directoryimport", "view_directoryimport"]
        )
    )
    return user
