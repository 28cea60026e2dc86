from django.urls import include, path

from annotations.exports import job_views as export_jobs
from annotations.exports import views as exports
from annotations.queue import views as queue
from annotations.review import views as review_views
from annotations.suggestions import views as suggestions
from annotations.workspace import views as workspace

app_name = "annotations"

urlpatterns = [
    path("", queue.article_list, name="article-list"),
    path("articles/<int:pk>/", queue.article_detail, name="article-detail"),
    path("articles/<int:pk>/annotate/", workspace.article_annotate, name="article-annotate"),
    path("articles/<int:pk>/next/", queue.article_next, name="article-next"),
    path("articles/<int:pk>/status/", workspace.article_status, name="article-status"),
    path("articles/<int:pk>/undo/", workspace.article_undo, name="article-undo"),
    path("articles/<int:pk>/writes/", workspace.article_write_check, name="article-write-check"),
    path("articles/<int:pk>/spans/", workspace.span_create, name="span-create"),
    path("articles/<int:pk>/spans/<int:span_pk>/", workspace.span_detail, name="span-detail"),
    path("articles/<int:pk>/spans/relabel/", workspace.span_relabel, name="span-relabel"),
    path("articles/<int:pk>/spans/details/", workspace.span_details, name="span-details"),
    path("articles/<int:pk>/spans/delete/", workspace.span_delete, name="span-delete"),
    path("articles/<int:pk>/suggestions/accept/", suggestions.suggestion_accept, name="suggestion-accept"),
    path("articles/<int:pk>/suggestions/reject/", suggestions.suggestion_reject, name="suggestion-reject"),
    path(
        "articles/<int:pk>/suggestions/accept-label/",
        suggestions.suggestions_accept_label,
        name="suggestions-accept-label",
    ),
    path("labels.css", workspace.labels_css, name="labels-css"),
    path("export/", exports.export_page, name="export"),
    path("export/download", exports.export_download, name="export-download"),
    path("export/jobs/", export_jobs.export_job_create, name="export-job-create"),
    path("export/jobs/<uuid:job_id>/", export_jobs.export_job_detail, name="export-job"),
    path("export/jobs/<uuid:job_id>/file", export_jobs.export_job_file, name="export-job-file"),
    path("agreement/", include("annotations.agreement.urls")),
    path("articles/<int:pk>/review/", include("annotations.review.urls")),
    path("articles/<int:pk>/gold/", review_views.article_gold, name="article-gold"),
]
