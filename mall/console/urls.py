"""Extra console URLs outside the admin site (none yet).

The console's own pages (dashboard, tenant switcher, shop settings) are added by
``ConsoleSite.get_urls`` in ``mall/console/site.py`` so that they share the admin's login,
CSRF and never-cache wrapping and live in the ``console`` namespace.
"""

app_name = "console_extra"

urlpatterns: list = []
