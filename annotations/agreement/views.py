"""The agreement page: figures, a pairwise heat map and per-label bars (server-drawn SVG), and its CSV."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET
from django_htmx.middleware import HtmxDetails

from annotations.agreement.charts import METRIC_NAMES, heat_map, label_bars
from annotations.agreement.forms import AgreementForm
from annotations.agreement.metrics import AGREEMENT_METRICS, GOLD_METRICS
from annotations.agreement.queries import Scope
from annotations.agreement.report import agreement_compute, csv_text

AGREEMENT_PERMISSION = "annotations.view_agreement"


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def _scope(request: HttpRequest) -> tuple[AgreementForm, Scope, str]:
    form = AgreementForm(request.GET or None)
    if form.is_bound and form.is_valid():
        return form, form.scope(), form.metric_value()
    return form, Scope(), "cohen_kappa"


@require_GET
@login_required
@permission_required(AGREEMENT_PERMISSION, raise_exception=True)
def agreement_page(request: HtmxHttpRequest) -> HttpResponse:
    form, scope, metric = _scope(request)
    if form.is_bound and not form.is_valid():
        return render(request, "annotations/agreement.html", {"form": form}, status=400)
    report = agreement_compute(scope)
    averages = [
        (name or "Overall", [report.average[name][m] for m in AGREEMENT_METRICS]) for name in [*report.labels, None]
    ]
    gold = [
        (
            name or "Overall",
            [(editor, [figures[m] for m in GOLD_METRICS]) for editor, figures in report.gold[name].items()],
        )
        for name in [*report.labels, None]
    ]
    heat = heat_map(report, metric)
    # The admin's throughput table links each editor here (``#editor-<id>``): their row of pair figures.
    User = get_user_model()
    ids = dict(
        User.objects.filter(**{f"{User.USERNAME_FIELD}__in": heat.editors}).values_list(User.USERNAME_FIELD, "pk")
    )
    context = {
        "form": form,
        "report": report,
        "heat_rows": [(ids.get(name), name, values) for name, values in heat.rows],
        "metric_names": [METRIC_NAMES[m] for m in AGREEMENT_METRICS],
        "heat": heat,
        "heat_metric": METRIC_NAMES[metric],
        "bars": label_bars(report),
        "averages": averages,
        "pairs": [(p, [p.figures[None][m] for m in AGREEMENT_METRICS]) for p in report.pairs],
        "gold": gold,
        "has_gold": any(v is not None for _, rows in gold for _, values in rows for v in values),
        "confusion": list(zip(report.labels, report.confusion, strict=True)),
        "csv_query": request.GET.urlencode(),
    }
    return render(request, "annotations/agreement.html", context)


@require_GET
@login_required
@permission_required(AGREEMENT_PERMISSION, raise_exception=True)
def agreement_csv(request: HtmxHttpRequest) -> HttpResponse | StreamingHttpResponse:
    form, scope, _ = _scope(request)
    if form.is_bound and not form.is_valid():
        return HttpResponse("Unknown label or source.", status=400, content_type="text/plain; charset=utf-8")
    report = agreement_compute(scope)
    name = f"newsnotes-agreement-{timezone.now():%Y%m%d}.csv"
    response = StreamingHttpResponse(
        (line.encode() for line in csv_text(report)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
