"""The site's URLs beside a local OpenID provider (django-oidc-provider)
at ``/openid/`` on its own host name: the provider the tests sign in with, with no network."""

from django.urls import include, path

from pcc_perf.urls import handler400  # noqa: F401
from pcc_perf.urls import urlpatterns as site

urlpatterns = [
    path("openid/", include("oidc_provider.urls", namespace="oidc_provider")),
    *site,
]
