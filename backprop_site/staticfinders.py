"""collectstatic takes only the Bootstrap build the pages load."""

from django.contrib.staticfiles import finders

# django-bootstrap-static ships every build (grid, reboot, RTL, ESM, unminified, jQuery; 9 MB).
# Hashing and compressing them all made each `make serve` start wait for files never sent.
UNUSED = [
    "bootstrap/css/bootstrap-*", "bootstrap/css/*.rtl.*", "bootstrap/css/bootstrap.css*",
    "bootstrap/js/bootstrap.js*", "bootstrap/js/bootstrap.min.js*", "bootstrap/js/bootstrap.esm*",
    "bootstrap/js/bootstrap.bundle.js*", "bootstrap/js/jquery*",
]


class AppDirectoriesFinder(finders.AppDirectoriesFinder):
    """Django's finder of apps' static folders, listing no unused Bootstrap build."""

    def list(self, ignore_patterns):
        return super().list([*(ignore_patterns or []), *UNUSED])
