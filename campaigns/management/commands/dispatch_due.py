from django.core.management.base import BaseCommand

from campaigns.delivery import services as delivery


class Command(BaseCommand):
    help = "Start the emails that are due (what the beat task does every minute), once."

    def handle(self, *args, **options):
        result = delivery.dispatch_due()
        self.stdout.write(
            f"started {len(result.started)} send(s); reclaimed {result.reclaimed}, "
            f"published again {result.requeued}, finished {result.finished}"
        )
