from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Users, agencies and the audit trail"

    def ready(self) -> None:
        from axes.signals import user_locked_out
        from django.db.models.signals import post_save

        from .lockout import audit_lockout
        from .models import User
        from .partnerships import sync_default_membership

        user_locked_out.connect(audit_lockout, dispatch_uid="accounts-audit-lockout")
        post_save.connect(sync_default_membership, sender=User, dispatch_uid="accounts-default-membership")
