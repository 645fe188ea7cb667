"""App configs of the site itself."""

from django.contrib.staticfiles.apps import StaticFilesConfig


class StaticFiles(StaticFilesConfig):
    """collectstatic takes only the Bootstrap files the pages load.

    django-bootstrap-static ships every build (grid, reboot, RTL, ESM, jQuery; 9 MB); hashing
    and compressing them all made each `make serve` start wait a minute for files never sent.
    """

    ignore_patterns = [
        *StaticFilesConfig.ignore_patterns,
        "bootstrap/css/bootstrap-*", "bootstrap/css/*.rtl.*", "bootstrap/css/bootstrap.css*",
        "bootstrap/js/bootstrap.js*", "bootstrap/js/bootstrap.min.js*", "bootstrap/js/bootstrap.esm*",
        "bootstrap/js/bootstrap.bundle.js*", "bootstrap/js/jquery*",
    ]
