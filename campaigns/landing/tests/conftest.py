import pytest


@pytest.fixture
def english_page(english, project):
    """The landing page speaks English: the project is written in English. (A page speaks the
    language its content is in, and the test project is Swedish; Swedish has its own tests.)"""
    from campaigns.models import ChangeProject

    ChangeProject.objects.filter(pk=project.pk).update(language="en")
    project.refresh_from_db()
    return project
