from django.urls import include, path

from annotations import export_views, views

app_name = "annotations"

urlpatterns = [
    path("", views.article_list, name="article-list"),
    path("articles/<int:pk>/", views.article_detail, name="article-detail"),
    path("articles/<int:pk>/annotate/", views.article_annotate, name="article-annotate"),
    path("articles/<int:pk>/next/", views.article_next, name="article-next"),
    path("articles/<int:pk>/status/", views.article_status, name="article-status"),
    path("articles/<int:pk>/undo/", views.article_undo, name="article-undo"),
    path("articles/<int:pk>/spans/", views.span_create, name="span-create"),
    path("articles/<int:pk>/spans/<int:span_pk>/", views.span_detail, name="span-detail"),
    path("articles/<int:pk>/spans/relabel/", views.span_relabel, name="span-relabel"),
    path("articles/<int:pk>/spans/details/", views.span_details, name="span-details"),
    path("articles/<int:pk>/spans/delete/", views.span_delete, name="span-delete"),
    path("labels.css", views.labels_css, name="labels-css"),
    path("export/", export_views.export_page, name="export"),
    path("export/download", export_views.export_download, name="export-download"),
    path("agreement/", include("annotations.agreement.urls")),
]
