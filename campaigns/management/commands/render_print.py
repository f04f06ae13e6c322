"""Render every print asset of a project now, in this process (for admins and scripts)."""

from django.core.management.base import BaseCommand, CommandError

from campaigns.models import ChangeProject, PrintRender
from campaigns.printing import services as printing


class Command(BaseCommand):
    help = "Render the handouts, posters and flyers of a project to PDF. Unchanged ones are kept."

    def add_arguments(self, parser):
        parser.add_argument("--project", required=True, help="The project's short name (slug).")
        parser.add_argument("--force", action="store_true", help="Render again even when nothing changed.")

    def handle(self, *args, project: str, force: bool, **options):
        found = ChangeProject.objects.filter(slug=project).first()
        if found is None:
            raise CommandError(f"There is no project {project!r}.")
        failed = 0
        for render in printing.print_request_project(project=found, force=force, enqueue=False):
            render = printing.print_render(render=render)
            line = f"{render.asset.title} [{render.site or 'general'}, {render.language}"
            line += ", print-ready]" if render.print_ready else "]"
            if render.status == PrintRender.Status.DONE:
                self.stdout.write(f"{line}: {render.page_count} page(s), {render.pdf.name}")
            else:
                failed += 1
                self.stderr.write(f"{line}: {render.get_status_display()} {render.error}")
        if failed:
            raise CommandError(f"{failed} render(s) failed.")
