from django.urls import path

from accounts.views import LoginView, LogoutView, RefreshView
from orgs import views

urlpatterns = [
    path("auth/register", views.RegisterView.as_view(), name="auth-register"),
    path("auth/verify", views.VerifyView.as_view(), name="auth-verify"),
    path("auth/verify/resend", views.ResendVerificationView.as_view(), name="auth-verify-resend"),
    path("auth/login", LoginView.as_view(), name="auth-login"),
    path("auth/refresh", RefreshView.as_view(), name="auth-refresh"),
    path("auth/logout", LogoutView.as_view(), name="auth-logout"),
    path("me", views.MeView.as_view(), name="me"),
    path("org", views.OrganizationView.as_view(), name="org"),
    path("org/colleagues", views.ColleagueSearchView.as_view(), name="org-colleagues"),
]
