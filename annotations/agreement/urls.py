"""Included under ``agreement/`` by ``annotations/urls.py``; names live in the ``annotations`` namespace."""

from django.urls import path

from annotations.agreement import views

urlpatterns = [
    path("", views.agreement_page, name="agreement"),
    path("agreement.csv", views.agreement_csv, name="agreement-csv"),
]
