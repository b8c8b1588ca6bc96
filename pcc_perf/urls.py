from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from accounts import contacts_views, oidc
from reports.api import views as api
from reports.dashboards import fairness, home, manage
from reports.dashboards import views as dashboards
from reports.local import views as local_views
from reports.narrative import views as report_views
from reports.packs import views as pack_views
from reports.regional import views as regional_views
from reports.snapshots import views as snapshot_views

urlpatterns = [
    path("", home.home, name="home"),
    path("dashboard/", dashboards.overview_page, name="dashboard"),
    path("dashboard/priority/<slug:code>/", dashboards.priority_page, name="dashboard-priority"),
    path("dashboard/metric/<str:code>/", dashboards.metric_page, name="dashboard-metric"),
    path("dashboard/metric/<str:code>/rebase/", dashboards.metric_rebase, name="metric-rebase"),
    path("dashboard/metric/<str:code>/rebases/new/", manage.rebase_new, name="metric-rebase-new"),
    path("dashboard/rebases/<int:pk>/remove/", manage.rebase_delete, name="metric-rebase-remove"),
    path("dashboard/metric/<str:code>/notes/new/", manage.annotation_new, name="metric-note-new"),
    path("dashboard/notes/<int:pk>/", manage.annotation_edit, name="metric-note-edit"),
    path("dashboard/notes/<int:pk>/remove/", manage.annotation_delete, name="metric-note-remove"),
    path("dashboard/fairness/", fairness.fairness_page, name="dashboard-fairness"),
    path("region/", regional_views.regional_page, name="regional"),
    path("snapshots/", snapshot_views.snapshot_list, name="snapshots"),
    path("snapshots/publish/", snapshot_views.snapshot_create, name="snapshot-create"),
    path("snapshots/<int:pk>/", snapshot_views.snapshot_detail, name="snapshot-detail"),
    path("reports/", report_views.report_list, name="reports"),
    path("reports/new/", report_views.report_new, name="report-new"),
    path("reports/<int:pk>/", report_views.report_detail, name="report-detail"),
    path("reports/<int:pk>/edit/", report_views.report_edit_page, name="report-edit"),
    path("reports/<int:pk>/pack/", pack_views.pack_start, name="pack-start"),
    path("reports/<int:pk>/public-preview/", report_views.report_public_preview, name="report-public-preview"),
    path("reports/<int:pk>/<str:action>/", report_views.report_action, name="report-action"),
    path("packs/<int:pk>/", pack_views.pack_detail, name="pack-detail"),
    path("packs/<int:pk>/progress/", pack_views.pack_progress, name="pack-progress"),
    path("packs/<int:pk>/retry/", pack_views.pack_try_again, name="pack-retry"),
    path("packs/<int:pk>/download/", pack_views.pack_download, name="pack-download"),
    path("packs/<int:pk>/download.docx", pack_views.pack_download_docx, name="pack-download-docx"),
    path("public/reports/<int:pk>/pack.pdf", pack_views.public_pack, name="public-pack"),
    path("public/reports/", report_views.public_list, name="public-reports"),
    path("public/reports/<int:pk>/", report_views.public_report, name="public-report"),
    path("public/areas/", local_views.public_local_index, name="public-local-index"),
    path("public/areas/<slug:code>/", local_views.public_local_area, name="public-local-area"),
    # One partnership's public pages: the middleware works in the partnership the path names.
    path("public/<slug:partnership>/areas/", local_views.public_local_index, name="partnership-public-local-index"),
    path(
        "public/<slug:partnership>/areas/<slug:code>/",
        local_views.public_local_area,
        name="partnership-public-local-area",
    ),
    # A partnership's public reports, named in the path (the unnamed ones above: the default partnership's).
    path("public/<slug:partnership>/reports/", report_views.public_list, name="partnership-public-reports"),
    path("public/<slug:partnership>/reports/<int:pk>/", report_views.public_report, name="partnership-public-report"),
    path("public/<slug:partnership>/reports/<int:pk>/pack.pdf", pack_views.public_pack, name="partnership-public-pack"),
    path("accounts/login/", oidc.OrganisationLoginView.as_view(), name="login"),
    path("accounts/login/refused/", oidc.refused, name="login-refused"),
    *oidc.oidc_urls(),  # sign-in with the organisation's identity provider (404 unless configured)
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/v1/metrics/", api.metrics_list, name="api-metrics"),
    path("api/v1/series/", api.series, name="api-series"),
    path("api/v1/disproportionality/", api.disproportionality, name="api-disproportionality"),
    path("agencies/", contacts_views.agency_list, name="agencies"),
    path("agencies/<slug:code>/contacts/", contacts_views.agency_contacts_edit, name="agency-contacts"),
    path("", include("metrics.urls")),
    path("", include("accounts.urls")),
    # Users, agencies, audit events and API keys moved from frameworks to accounts: old admin links still work.
    re_path(
        r"^admin/frameworks/(?P<model>user|agency|auditevent|apitoken)/(?P<rest>.*)$",
        RedirectView.as_view(url="/admin/accounts/%(model)s/%(rest)s", permanent=True, query_string=True),
    ),
    path("admin/", admin.site.urls),
]

handler400 = "accounts.errors.bad_request"
