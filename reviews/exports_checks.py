"""The sample check (抽查核验) as a workbook: the draw's parameters and seed (enough to repeat it), the
strata with their shares, and every sampled form with its outcome and findings."""

from __future__ import annotations

import io

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from gigacity.xlsx import safe_value, set_text
from indicators.catalogue import CATALOGUE_BY_CODE

from .models import SampleDraw, SampleStratum, VerificationOutcome
from .sampling import draw_again, stratum_counts, stratum_label

BOLD = Font(bold=True)


def _row(sheet, values, *, bold: bool = False) -> None:
    sheet.append([safe_value(value) for value in values])
    if bold:
        for cell in sheet[sheet.max_row]:
            cell.font = BOLD


def sample_workbook(record: SampleDraw) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = str(_("Draw"))
    _again, identical = draw_again(record)
    sheet.append([str(_("Sample check %(year)s · draw %(id)s") % {"year": record.round.year, "id": record.pk})])
    sheet["A1"].font = Font(bold=True, size=14)
    pairs = [
        (_("Round"), record.round.year),
        (_("Seed"), str(record.seed)),
        (_("Forms drawn from (recommended or approved)"), len(record.population)),
        (_("Sample size"), record.size),
        (_("Share (%)"), float(record.share) if record.share is not None else "—"),
        (_("Stratified"), str(SampleStratum(record.stratify).label)),
        (
            _("Strata chosen"),
            "、".join(stratum_label(key, record.stratify) for key in record.strata) or str(_("All")),
        ),
        (_("Drawn by"), str(record.drawn_by)),
        (_("Drawn at"), date_format(timezone.localtime(record.created_at), "Y-m-d H:i")),
        (_("Repeated from the seed"), str(_("identical") if identical else _("DIFFERENT"))),
        (_("Note"), record.note),
        (_("Population ids (in order)"), ",".join(str(pk) for pk, _s in record.population)),
    ]
    for label, value in pairs:
        sheet.append([str(label)])
        cell = sheet.cell(row=sheet.max_row, column=2)
        if isinstance(value, str):
            set_text(cell, value)
        else:
            cell.value = value
        sheet.cell(row=sheet.max_row, column=1).font = BOLD
    sheet["B2"].number_format = "0"
    sheet.column_dimensions["A"].width = 34
    sheet.column_dimensions["B"].width = 60

    strata = workbook.create_sheet(str(_("Strata")))
    _row(strata, [str(_("Stratum")), str(_("Forms")), str(_("Quota")), str(_("Drawn"))], bold=True)
    for row in stratum_counts(record):
        _row(strata, [row["label"], row["population"], float(row["quota"]), row["drawn"]])

    items = workbook.create_sheet(str(_("Sampled forms")))
    headers = [
        _("No."),
        _("Province"),
        _("City"),
        _("Code"),
        _("Form status"),
        _("Outcome"),
        _("Findings"),
        _("Note"),
        _("Reopened to the bureau"),
        _("Verified by"),
        _("Verified at"),
        _("Files"),
    ]
    _row(items, [str(h) for h in headers], bold=True)
    for number, item in enumerate(
        record.items.select_related("submission__city__province", "verified_by").prefetch_related("files"), 1
    ):
        findings = "；".join(
            f"{CATALOGUE_BY_CODE[f['indicator']].name_zh}：{f['text']}"
            for f in item.findings
            if f.get("indicator") in CATALOGUE_BY_CODE
        )
        _row(
            items,
            [
                number,
                item.submission.city.province.name,
                item.submission.city.name,
                item.submission.city_id,
                item.submission.status_label,
                str(VerificationOutcome(item.outcome).label),
                findings,
                item.note,
                str(_("yes")) if item.reopened else "",
                str(item.verified_by) if item.verified_by else "",
                date_format(timezone.localtime(item.verified_at), "Y-m-d H:i") if item.verified_at else "",
                "、".join(f.original_name for f in item.files.all()),
            ],
        )
    for column, width in zip("ABCDEFGHIJKL", (6, 12, 12, 10, 12, 14, 50, 30, 10, 14, 18, 30), strict=True):
        items.column_dimensions[column].width = width
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
