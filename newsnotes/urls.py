from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from newsnotes import views

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("", include("annotations.urls")),
]
