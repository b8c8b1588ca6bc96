from django.urls import path

from . import views

urlpatterns = [
    path("returns/", views.tracker, name="returns"),
    path("returns/rounds/open/", views.round_open, name="round-open"),
    path("returns/<int:pk>/", views.return_detail, name="return-detail"),
    path("returns/<int:pk>/template.<str:fmt>", views.return_template, name="return-template"),
    path("returns/<int:pk>/upload/", views.return_upload, name="return-upload"),
    path("returns/<int:pk>/<str:action>/", views.return_action, name="return-action"),
    path("returns/uploads/<int:pk>/", views.upload_detail, name="upload-detail"),
    path("returns/uploads/<int:pk>/progress/", views.upload_progress, name="upload-progress"),
    path("audit/", views.audit_log, name="audit"),
]
