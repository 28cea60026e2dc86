"""Included under ``articles/<pk>/review/`` by ``annotations/urls.py``; names live in the ``annotations`` namespace."""

from django.urls import path

from annotations.review import views

urlpatterns = [
    path("", views.article_review, name="article-review"),
    path("accept/", views.review_accept, name="review-accept"),
    path("reject/", views.review_reject, name="review-reject"),
    path("add/", views.review_add, name="review-add"),
    path("agreed/", views.review_accept_agreed, name="review-agreed"),
    path("merge/", views.review_merge, name="review-merge"),
    path("undo/", views.review_undo, name="review-undo"),
    path("reviewed/", views.review_reviewed, name="review-reviewed"),
]
