from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Users, agencies and the audit trail"

    def ready(self) -> None:
        from axes.signals import user_locked_out

        from .lockout import audit_lockout

        user_locked_out.connect(audit_lockout, dispatch_uid="accounts-audit-lockout")
