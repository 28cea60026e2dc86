from django.urls import path

from annotations import views

app_name = "annotations"

urlpatterns = [
    path("", views.article_list, name="article-list"),
    path("articles/<int:pk>/", views.article_detail, name="article-detail"),
    path("labels.css", views.labels_css, name="labels-css"),
]
