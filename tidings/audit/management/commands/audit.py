from django.core.management.base import BaseCommand, CommandError

from tidings.audit.selectors import verify_chains


class Command(BaseCommand):
    help = "Audit log tools. 'audit verify' checks every hash chain and exits 1 on any tampering."

    def add_arguments(self, parser):
        parser.add_argument("operation", choices=["verify"])

    def handle(self, *args, operation, **options):
        problems = list(verify_chains())
        for problem in problems:
            self.stderr.write(str(problem))
        if problems:
            raise CommandError(f"audit log verification failed: {len(problems)} problem(s)")
        self.stdout.write("audit log verified: every chain intact")
