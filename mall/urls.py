from django.conf import settings
from django.contrib import admin
from django.http import HttpResponsePermanentRedirect
from django.templatetags.static import static as static_url
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from mall.api.health import healthz
from mall.console.site import console_site

FAVICON = "console/favicon.svg"

shopper_api = [
    path("", include("members.api.urls")),
    path("", include("catalog.api.urls")),
    path("", include("promotions.api.urls")),
    path("", include("orders.api.urls")),
    path("", include("payments.api.urls")),
    path("", include("distribution.api.urls")),
]

merchant_api = [
    path("", include("members.api.merchant_urls")),
    path("", include("catalog.api.merchant_urls")),
    path("", include("orders.api.merchant_urls")),
]

urlpatterns = [
    path("", RedirectView.as_view(url="/console/", permanent=False)),
    path("healthz", healthz, name="healthz"),
    # Browsers ask for /favicon.ico whatever the page says: answer with the console's icon.
    path("favicon.ico", lambda request: HttpResponsePermanentRedirect(static_url(FAVICON))),
    path("api/v1/", include(shopper_api)),
    path("api/merchant/v1/", include(merchant_api)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("console/", include("mall.console.urls")),
    path("console/", console_site.urls),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),  # /admin/'s language switch
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

handler400 = "mall.api.errors.handler400"
handler403 = "mall.api.errors.handler403"
handler404 = "mall.api.errors.handler404"
handler500 = "mall.api.errors.handler500"
