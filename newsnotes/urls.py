from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, reverse_lazy

from newsnotes import views

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password/",
        auth_views.PasswordChangeView.as_view(
            template_name="registration/account_password_change.html", success_url=reverse_lazy("password-done")
        ),
        name="password-change",
    ),
    path(
        "password/done/",
        auth_views.PasswordChangeDoneView.as_view(template_name="registration/account_password_done.html"),
        name="password-done",
    ),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.FaviconRedirect.as_view()),
    path("admin/", admin.site.urls),
    path("", include("annotations.urls")),
]

handler500 = "newsnotes.views.server_error"
