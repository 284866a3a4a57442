from django.apps import apps
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView

from analytics import export as analytics_export
from config import health

urlpatterns = [
    path("", include("livechat.urls")),
    path("console/", include("livechat.console.urls")),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/v1/analytics/", include("analytics.api_urls")),
    path("analytics/export.csv", analytics_export.export_csv, name="analytics-export"),
    path("api/v1/", include("livechat.api.urls")),
    path("analytics/", include("analytics.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("admin/", admin.site.urls),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", health.metrics, name="metrics"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
]

if apps.is_installed("livechat.simulator"):  # LINE_SIMULATOR on: development and tests only
    urlpatterns.append(path("simulator/", include("livechat.simulator.urls")))
