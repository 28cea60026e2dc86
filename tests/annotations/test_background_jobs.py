"""Export and import jobs share one rule for "stalled" and one progress percentage (annotations.background_jobs):
the page's note and the prune that fails the job agree, for both kinds of job."""

import datetime as dt

import pytest
from django.utils import timezone

from annotations.background_jobs import STALLED_AFTER
from annotations.exports.models import ExportChunk, ExportJob
from annotations.imports.models import ImportChunk, ImportJob

pytestmark = pytest.mark.django_db


def export_job(owner, **fields):
    return ExportJob.objects.create(owner=owner, format="csv", filename="spans.csv", **fields)


def import_job(owner, **fields):
    return ImportJob.objects.create(owner=owner, name="feed.jsonl", preview={}, **fields)  # a preview: any status


# (make a job, a status the worker reports progress in, one it does not, the field counting what is done)
KINDS = {
    "export": (export_job, ["running"], ["queued", "finished", "failed"], "rows"),
    "import": (import_job, ["previewing", "importing"], ["queued", "previewed", "confirmed", "cancelled"], "processed"),
}
AGO = {"fresh": dt.timedelta(minutes=1), "just under": STALLED_AFTER - dt.timedelta(minutes=1)}


@pytest.mark.parametrize("kind", KINDS)
def test_a_working_job_without_progress_for_ten_minutes_is_stalled_on_the_page_and_for_the_prune(kind, curator):
    make, working, idle, _ = KINDS[kind]
    now = timezone.now()
    old = now - STALLED_AFTER - dt.timedelta(minutes=1)
    finished = {"finished_at": now}
    stalled = [make(curator, status=status, progress_at=old) for status in working]
    alive = [make(curator, status=status, progress_at=now - ago) for status in working for ago in AGO.values()]
    never = [make(curator, status=working[0], progress_at=None)]
    resting = [
        make(
            curator,
            status=status,
            progress_at=old,
            error="x",
            **(finished if status in {"finished", "failed", "cancelled"} else {}),
        )
        for status in idle
    ]
    assert [job.stalled for job in stalled] == [True] * len(stalled)
    assert [job.stalled for job in alive + never + resting] == [False] * len(alive + never + resting)
    model = type(stalled[0])
    assert set(model.objects.stalled(now=now)) == set(stalled)


@pytest.mark.parametrize("kind", KINDS)
def test_percent_is_what_is_done_of_the_total_and_100_only_when_finished(kind, curator):
    make, working, _, counter = KINDS[kind]
    job = make(curator, status=working[0], total=0)
    assert job.percent == 0
    for done, percent in ((0, 0), (1, 0), (50, 25), (199, 99), (200, 99)):
        setattr(job, counter, done)
        job.total = 200
        assert job.percent == percent, (done, job.percent)
    job.status = "finished"
    assert job.percent == 100


@pytest.mark.parametrize(("model", "chunk"), [(export_job, ExportChunk), (import_job, ImportChunk)])
def test_a_chunk_names_its_job_and_place_and_takes_one_place_once(model, chunk, curator):
    from django.db import IntegrityError, transaction

    job = model(curator)
    piece = chunk.objects.create(job=job, seq=0, data=b"span_id,")
    assert str(piece) == f"{job.pk} #0"
    with pytest.raises(IntegrityError, match=f"{chunk._meta.model_name}_one_per_place"), transaction.atomic():
        chunk.objects.create(job=job, seq=0, data=b"again")
    with pytest.raises(IntegrityError, match=f"{chunk._meta.model_name}_seq_positive"), transaction.atomic():
        chunk.objects.create(job=job, seq=-1, data=b"")
