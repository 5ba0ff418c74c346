"""Bulk imports through the API: start a job, read its progress and row errors."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from exhibitors.models import ImportJob, Product
from tests.exhibitors.factories_api import OUTSIDERS, build_fair, client_for, drf_time

pytestmark = pytest.mark.django_db

SALES_DENIED = "Sales staff cannot change the booth or the catalogue."
CSV = (
    b"sku,name,category,price_min\n"
    b"IMP-1,Imported fridge,household-appliances,99.50\n"
    b"IMP-2,,household-appliances,10\n"
)


@pytest.fixture
def fair(db):
    return build_fair()


def create_url(exhibitor_id: int) -> str:
    return f"/api/v1/exhibit/exhibitors/{exhibitor_id}/imports/create/"


def list_url(exhibitor_id: int) -> str:
    return f"/api/v1/exhibit/exhibitors/{exhibitor_id}/imports/"


def detail_url(exhibitor_id: int, job_id: int) -> str:
    return f"/api/v1/exhibit/exhibitors/{exhibitor_id}/imports/{job_id}/"


def csv_upload(content: bytes = CSV, name: str = "catalogue.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, "text/csv")


def assert_denied(response, role: str) -> None:
    if role == "anonymous":
        assert response.status_code == 403
        assert response.json() == {"detail": "Authentication credentials were not provided."}
    elif role in OUTSIDERS:
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found."}
    else:
        assert response.status_code == 403
        assert response.json() == {"detail": SALES_DENIED}


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_import_job_create_queues_job_and_its_report_lists_the_bad_row(
    fair, django_capture_on_commit_callbacks, role
):
    client = client_for(fair.user(role))

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            create_url(fair.company.pk), {"file": csv_upload()}, format="multipart"
        )

    assert response.status_code == 202
    job = ImportJob.objects.get()
    assert response.json()["id"] == job.pk
    assert response.json()["status"] == "queued"
    assert response.json()["original_name"] == "catalogue.csv"
    assert "file" not in response.json()
    detail = client.get(detail_url(fair.company.pk, job.pk))
    job.refresh_from_db()
    assert detail.status_code == 200
    assert detail.json() == {
        "id": job.pk,
        "original_name": "catalogue.csv",
        "file_format": "csv",
        "status": "succeeded",
        "total_rows": 2,
        "processed_rows": 2,
        "created_count": 1,
        "updated_count": 0,
        "unchanged_count": 0,
        "error_count": 1,
        "errors": job.errors,
        "message": "",
        "created_at": drf_time(job.created_at),
        "started_at": drf_time(job.started_at),
        "finished_at": drf_time(job.finished_at),
    }
    assert [(e["row"], e["column"]) for e in detail.json()["errors"]] == [(3, "name")]
    assert list(Product.objects.filter(exhibitor=fair.company).values_list("sku", flat=True)) == [
        "IMP-1"
    ]


def test_import_job_create_wrong_file_type_answers_400_and_creates_no_job(fair):
    response = client_for(fair.owner).post(
        create_url(fair.company.pk),
        {"file": SimpleUploadedFile("catalogue.pdf", b"%PDF-1.4", "application/pdf")},
        format="multipart",
    )

    assert response.status_code == 400
    assert response.json()["code"] == "import_format"
    assert not ImportJob.objects.exists()


def test_import_job_create_without_file_answers_400(fair):
    response = client_for(fair.owner).post(create_url(fair.company.pk), {}, format="multipart")

    assert response.status_code == 400
    assert response.json() == {"file": ["No file was submitted."]}


@pytest.mark.parametrize("role", ["anonymous", "sales", *OUTSIDERS])
def test_import_job_create_denied_roles_start_nothing(
    fair, django_capture_on_commit_callbacks, role
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(fair.user(role)).post(
            create_url(fair.company.pk), {"file": csv_upload()}, format="multipart"
        )

    assert_denied(response, role)
    assert not ImportJob.objects.exists()
    assert not Product.objects.exists()


def test_import_job_list_shows_the_companys_jobs_newest_first(
    fair, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client_for(fair.owner).post(
            create_url(fair.company.pk), {"file": csv_upload()}, format="multipart"
        )
    with django_capture_on_commit_callbacks(execute=True):
        client_for(fair.other_owner).post(
            create_url(fair.other.pk), {"file": csv_upload(name="other.csv")}, format="multipart"
        )

    response = client_for(fair.admin).get(list_url(fair.company.pk))

    assert response.status_code == 200
    assert response.json()["count"] == 1
    assert [job["original_name"] for job in response.json()["results"]] == ["catalogue.csv"]


@pytest.mark.parametrize("role", ["anonymous", "sales", *OUTSIDERS])
def test_import_job_detail_and_list_denied_roles_see_no_report(
    fair, django_capture_on_commit_callbacks, role
):
    with django_capture_on_commit_callbacks(execute=True):
        client_for(fair.owner).post(
            create_url(fair.company.pk), {"file": csv_upload()}, format="multipart"
        )
    job = ImportJob.objects.get()
    client = client_for(fair.user(role))

    detail = client.get(detail_url(fair.company.pk, job.pk))
    listing = client.get(list_url(fair.company.pk))

    for response in (detail, listing):
        assert_denied(response, role)
        assert "catalogue.csv" not in response.content.decode()


def test_import_job_detail_of_another_company_through_own_id_answers_404(
    fair, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client_for(fair.other_owner).post(
            create_url(fair.other.pk), {"file": csv_upload(name="other.csv")}, format="multipart"
        )
    job = ImportJob.objects.get()

    response = client_for(fair.owner).get(detail_url(fair.company.pk, job.pk))

    assert response.status_code == 404
    assert "other.csv" not in response.content.decode()
