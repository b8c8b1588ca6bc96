from django.urls import path

from . import sharing_views, views

urlpatterns = [
    path("manage/", views.manage_home, name="manage"),
    path("manage/sharing/", sharing_views.sharing_page, name="manage-sharing"),
    path("manage/users/", views.user_list, name="manage-users"),
    path("manage/users/invite/", views.user_invite_page, name="manage-user-invite"),
    path("manage/users/<int:pk>/", views.user_edit_page, name="manage-user-edit"),
    path("manage/users/<int:pk>/<str:action>/", views.user_action, name="manage-user-action"),
    path("accounts/set-password/<uidb64>/<token>/", views.SetPasswordView.as_view(), name="set-password"),
]
