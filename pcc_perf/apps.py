from django.contrib.admin.apps import AdminConfig


class PccAdminConfig(AdminConfig):
    default_site = "pcc_perf.admin_site.PccAdminSite"
