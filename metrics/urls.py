from django.urls import path

from .catalogue import views as catalogue_views
from .returns.views import audit, returns, tracker, uploads

urlpatterns = [
    path("returns/", tracker.tracker, name="returns"),
    path("returns/rounds/open/", tracker.round_open, name="round-open"),
    path("returns/<int:pk>/", returns.return_detail, name="return-detail"),
    path("returns/<int:pk>/remind/", tracker.return_remind, name="return-remind"),
    path("returns/<int:pk>/template.<str:fmt>", returns.return_template, name="return-template"),
    path("returns/<int:pk>/upload/", uploads.return_upload, name="return-upload"),
    path("returns/<int:pk>/<str:action>/", returns.return_action, name="return-action"),
    path("returns/uploads/<int:pk>/", uploads.upload_detail, name="upload-detail"),
    path("returns/uploads/<int:pk>/progress/", uploads.upload_progress, name="upload-progress"),
    path("returns/uploads/<int:pk>/retry/", uploads.upload_try_again, name="upload-retry"),
    path("audit/", audit.audit_log, name="audit"),
    path("manage/framework/", catalogue_views.framework_page, name="manage-framework"),
    path("manage/framework/download.yaml", catalogue_views.framework_download, name="manage-framework-download"),
]
