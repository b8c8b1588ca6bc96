from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import path

from reports import views as report_views

urlpatterns = [
    path("", report_views.home, name="home"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
]
