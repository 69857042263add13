"""The printable patient summary: a page with a print stylesheet and a PDF with the
patient's identity on every page, treatment, the burden chart as a static image,
studies, plan and open alerts."""

import re
from datetime import date

import pytest
from django.urls import reverse

from alerts.models import Alert
from audit.models import Action, AuditEvent
from imaging.chart_svg import figure_svg
from imaging.charts import timeline_figure
from tests.browser.case_report import case_report_patient
from tests.imaging.test_charts import case_history
from tests.outreach.pdf import pdf_pages, pdf_text

pytestmark = pytest.mark.django_db


def test_static_chart_draws_every_point_of_the_figure():
    figure = timeline_figure(case_history(), today=date(2025, 1, 10))
    svg = figure_svg(figure)
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    left = next(t for t in figure["data"] if t["name"] == "Left breast calcifications")
    mri = next(t for t in figure["data"] if t["name"] == "Left breast MRI enhancement")
    # One marker per mammogram point; the MRI's no-enhancement points are open circles.
    assert svg.count('fill="#fff" stroke="#7b2d6b"') == sum(1 for y in mri["y"] if y == 0)
    symbols = left["marker"]["symbol"]
    circles = re.findall(r'<circle [^>]*stroke="#7b2d6b" stroke-width="1.5"/>', svg)
    assert len(circles) >= symbols.count("circle")
    # The worst morphologies keep their own symbols in print too.
    assert len(re.findall(r'<polygon [^>]*stroke="#7b2d6b" stroke-width="1.5"/>', svg)) >= symbols.count(
        "triangle-up")
    assert svg.count('stroke="#8e1010" stroke-width="3" fill="none"') >= symbols.count("x")
    assert "Fine pleomorphic calcifications" in svg or "triangle-up" not in symbols
    for label in (
        "Surgery",
        "RT end",
        "NAC start",
        "Left breast calcifications",
        "2015",
        "2024",
        "Calcification extent (mm)",
        "MRI lesion (mm)",
    ):
        assert label in svg


def test_empty_history_draws_the_notes():
    from imaging.history import PatientHistory

    svg = figure_svg(timeline_figure(PatientHistory(patient_id=1, studies=()), today=date(2025, 1, 1)))
    assert "No signed mammogram yet" in svg and "No signed MRI yet" in svg


@pytest.fixture
def case(site):
    patient = case_report_patient(site, given_name="Helen", family_name="Marsh", mrn="NC-100001")
    Alert.objects.create(
        patient=patient,
        rule="calc_new_group",
        severity="high",
        state="open",
        dedup_key=f"{patient.id}:x",
        reason="New group L3",
    )
    return patient


def test_summary_page_prints_with_identity_on_each_page(client, radiologist, case):
    client.force_login(radiologist)
    html = client.get(reverse("patient-summary", kwargs={"uuid": case.uuid})).content.decode()
    assert '<table class="print-frame"><thead>' in html  # the header repeats on printed pages
    assert "Helen Marsh · MRN NC-100001" in html and "<svg" in html
    for part in ("Diagnosis and treatment", "Open alerts", "New group L3", "Surveillance plan", "Studies ("):
        assert part in html


def test_summary_pdf_has_identity_on_every_page_and_every_section(client, radiologist, case):
    client.force_login(radiologist)
    response = client.get(reverse("patient-summary-pdf", kwargs={"uuid": case.uuid}))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    pages = pdf_pages(response.content)
    assert pages >= 2
    for n in range(1, pages + 1):
        text = pdf_text(response.content, first=n, last=n)
        assert "Helen Marsh · MRN NC-100001 · born" in text, f"page {n}"
        assert f"Page {n} of {pages}" in text
    text = pdf_text(response.content)
    for part in (
        "Diagnosis and treatment",
        "Invasive ductal carcinoma",
        "pCR",
        "Open alerts",
        "New group L3",
        "Calcification burden and MRI enhancement",
        "Left breast calcifications",
        "Surveillance plan",
        "Studies (",
        "BI-RADS",
    ):
        assert part in text, part
    assert AuditEvent.objects.filter(
        action=Action.EXPORT, patient_id=case.id, changes={"export": "summary.pdf"}
    ).exists()


def test_other_sites_get_404(client, outsider, case):
    client.force_login(outsider)
    assert client.get(reverse("patient-summary-pdf", kwargs={"uuid": case.uuid})).status_code == 404
    assert client.get(reverse("patient-summary", kwargs={"uuid": case.uuid})).status_code == 404
