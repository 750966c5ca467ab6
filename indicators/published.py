"""Loading a round's published key-indicator table (MIIT's 附件1 千兆城市关键指标情况汇总表) as the
published figures of that round, from a CSV or xlsx file with MIIT's columns: 省份, 千兆城市,
每万人拥有5G基站数, 5G用户占比, 10G-PON端口占比, 500M及以上用户占比, 备注 (the batch, e.g. 2021年度);
序号 and the other indicators of the catalogue may be there too, units in brackets after a title are
ignored, and rows of means beneath (平均值, 合计) are skipped.

All or nothing: every row is checked first — the province and the city must exist, the batch must
agree with the city's designation, the numbers must be numbers a city could report, a city appears
once — and one wrong row loads nothing, with every problem listed by its row number. A city the table
names that gigacity does not know as a Gigabit City yet is named (source "published") in the round of
its batch. Loading the same table again changes nothing; a corrected table replaces the round's
published figures. Used by `manage.py load_published` and the admin's upload.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import IO

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from gigacity.errors import Conflict
from gigacity.i18n import pick
from gigacity.models import City, Province, User
from gigacity.xlsx import WorkbookRejected, open_workbook

from .catalogue import INDICATORS, IndicatorSpec
from .models import Designation, PublishedFigure, Round
from .rules import indicator_value_problem
from .services import designation_create

MAX_ROWS = 2000
MAX_BYTES = 5 * 2**20
PROVINCE, CITY, BATCH, NUMBER = "province", "city", "batch", "number"
# Column titles as MIIT writes them (and a few it has used), besides the catalogue's own names.
TITLES = {
    "省份": PROVINCE,
    "省": PROVINCE,
    "省（区、市）": PROVINCE,
    "千兆城市": CITY,
    "城市": CITY,
    "备注": BATCH,
    "批次": BATCH,
    "序号": NUMBER,
    "每万人拥有5G基站数": "bs5g_per_10k",
    "5G用户占比": "users_5g_share",
    "10G-PON端口占比": "pon_10g_share",
    "500M及以上用户占比": "users_500m_share",
    "500Mbps及以上用户占比": "users_500m_share",
    "城市家庭千兆光纤网络覆盖率": "fiber_gigabit_coverage",
    "重点场所5G网络通达率": "key_sites_5g_reach",
    "1000M用户数": "users_1000m",
    **{spec.name_zh: spec.code for spec in INDICATORS},
}
REQUIRED = (PROVINCE, CITY, BATCH, "bs5g_per_10k", "users_5g_share", "pon_10g_share", "users_500m_share")
SKIPPED_ROWS = ("平均", "合计", "总计")
SPECS = {spec.code: spec for spec in INDICATORS}


def _plain(text: object) -> str:
    """A cell as text, full-width characters and spaces normalised (ＰＯＮ is PON, 北 京 is 北京)."""
    return "".join(unicodedata.normalize("NFKC", "" if text is None else str(text)).split())


def _title(text: object) -> str | None:
    """The column a title stands for: units in brackets after it do not matter."""
    plain = re.split(r"[(（]", _plain(text), maxsplit=1)[0]
    return TITLES.get(plain) or TITLES.get(_plain(text))


@dataclass
class ParsedRow:
    row: int
    city: City
    batch: int
    values: dict[str, Decimal | None]


@dataclass
class LoadResult:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    named: list[str] = field(default_factory=list)  # cities named by this table (designations created)

    def summary(self) -> str:
        return _(
            "%(rows)s rows: %(created)s published figures added, %(updated)s changed, %(unchanged)s unchanged, "
            "%(removed)s removed; %(named)s cities named Gigabit Cities."
        ) % {
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "named": len(self.named),
        }


# ------------------------------------------------------------------------------------------------
# Reading the file
# ------------------------------------------------------------------------------------------------
def read_table(upload: IO[bytes], name: str) -> list[tuple[int, list[object]]]:
    """(row number as the person sees it, cells) of a CSV or xlsx file, every row."""
    upload.seek(0, io.SEEK_END)
    if upload.tell() > MAX_BYTES:
        raise ValidationError(_("The file is larger than %(mb)s MB.") % {"mb": MAX_BYTES // 2**20})
    upload.seek(0)
    if name.lower().endswith(".csv"):
        raw = upload.read()
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise ValidationError(_("The CSV file is neither UTF-8 nor GB18030 text."))
        return list(enumerate(csv.reader(io.StringIO(text)), start=1))[: MAX_ROWS + 20]
    if not name.lower().endswith(".xlsx"):
        raise ValidationError(_("Upload the table as a .csv or .xlsx file."))
    try:
        with open_workbook(upload, max_rows=MAX_ROWS + 20) as workbook:
            sheet = workbook.worksheets[0]
            return [(number, list(row)) for number, row in enumerate(sheet.iter_rows(values_only=True), start=1)]
    except WorkbookRejected as exc:
        raise ValidationError(str(exc)) from None


def _number(text: object, spec: IndicatorSpec) -> Decimal | None:
    """A published value: blank or a dash is no value; a share may carry its % sign."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        value = Decimal(str(text))
    else:
        plain = _plain(text).replace(",", "").removesuffix("%")
        if plain in ("", "-", "—", "/"):
            return None
        value = Decimal(plain)  # InvalidOperation for words
    if problem := indicator_value_problem(spec, value):
        raise ValueError(pick(*problem))
    return value.quantize(Decimal("0.01"))


def _lookups() -> tuple[dict[str, Province], dict[tuple[str, str], City]]:
    provinces: dict[str, Province] = {}
    for province in Province.objects.all():
        for name in (
            province.name,
            province.short_name,
            re.sub(r"(省|市|自治区|壮族|回族|维吾尔)+$", "", province.name),
        ):
            provinces[_plain(name)] = province
    cities: dict[tuple[str, str], City] = {}
    for city in City.objects.all():
        short = re.sub(r"(市|地区|自治州|盟)$", "", city.name)
        for name in (city.name, short, city.code):
            cities[(city.province_id, _plain(name))] = city
    return provinces, cities


def parse_table(rows: list[tuple[int, list[object]]], round_: Round) -> list[ParsedRow]:
    """The table's data rows, checked; ValidationError with every problem by row number otherwise."""
    header_at = next(
        (i for i, (_n, cells) in enumerate(rows[:15]) if {PROVINCE, CITY} <= {_title(c) for c in cells}), None
    )
    if header_at is None:
        raise ValidationError(
            _("No row of column titles found: the table needs at least %(titles)s.")
            % {"titles": "省份、千兆城市、每万人拥有5G基站数、5G用户占比、10G-PON端口占比、500M及以上用户占比、备注"}
        )
    header_row, header = rows[header_at]
    columns: dict[str, int] = {}
    for index, cell in enumerate(header):
        if (key := _title(cell)) is not None:
            columns.setdefault(key, index)
    missing = [key for key in REQUIRED if key not in columns]
    if missing:
        names = {PROVINCE: "省份", CITY: "千兆城市", BATCH: "备注", **{c: SPECS[c].name_zh for c in SPECS}}
        raise ValidationError(
            _("Row %(row)s: the column titles lack %(titles)s.")
            % {"row": header_row, "titles": "、".join(names[key] for key in missing)}
        )
    provinces, cities = _lookups()
    batches = dict(Designation.objects.values_list("city_id", "round__year"))
    years = set(Round.objects.values_list("year", flat=True))
    problems: list[str] = []
    parsed: list[ParsedRow] = []
    seen: dict[str, int] = {}

    def cell(cells: list[object], key: str) -> object:
        index = columns.get(key)
        return cells[index] if index is not None and index < len(cells) else None

    data_rows = [(n, cells) for n, cells in rows[header_at + 1 :] if any(_plain(c) for c in cells)]
    if len(data_rows) > MAX_ROWS:
        raise ValidationError(_("At most %(n)s rows per table.") % {"n": MAX_ROWS})
    for number, cells in data_rows:
        province_text, city_text = _plain(cell(cells, PROVINCE)), _plain(cell(cells, CITY))
        if any(word in province_text + city_text for word in SKIPPED_ROWS) or not (province_text or city_text):
            continue  # the means beneath, notes
        row_problems: list[str] = []
        province = provinces.get(province_text)
        city = cities.get((province.code, city_text)) if province else None
        if province is None:
            row_problems.append(_("unknown province “%(name)s”") % {"name": province_text})
        elif city is None:
            row_problems.append(
                _("“%(city)s” is no unit of %(province)s") % {"city": city_text, "province": province.name}
            )
        batch_text = _plain(cell(cells, BATCH))
        match = re.search(r"(19|20)\d\d", batch_text)
        batch = int(match.group(0)) if match else None
        if batch is None:
            row_problems.append(_("备注 must give the batch, e.g. 2021年度"))
        elif batch > round_.year:
            row_problems.append(
                _("batch %(batch)s is later than the %(year)s round") % {"batch": batch, "year": round_.year}
            )
        elif city is not None and city.pk in batches and batches[city.pk] != batch:
            row_problems.append(
                _("%(city)s was named in %(named)s, not %(batch)s")
                % {"city": city.name, "named": batches[city.pk], "batch": batch}
            )
        elif city is not None and city.pk not in batches and batch not in years:
            row_problems.append(
                _("there is no %(batch)s round to name %(city)s in") % {"batch": batch, "city": city.name}
            )
        if city is not None:
            if city.pk in seen:
                row_problems.append(
                    _("%(city)s is listed twice (row %(first)s)") % {"city": city.name, "first": seen[city.pk]}
                )
            seen.setdefault(city.pk, number)
        values: dict[str, Decimal | None] = {}
        for code, spec in SPECS.items():
            if code not in columns:
                continue
            try:
                values[code] = _number(cell(cells, code), spec)
            except (InvalidOperation, ValueError) as exc:
                detail = str(exc) if isinstance(exc, ValueError) and str(exc) else _("not a number")
                row_problems.append(
                    _("%(indicator)s “%(text)s”: %(problem)s")
                    % {"indicator": spec.name_zh, "text": _plain(cell(cells, code)), "problem": detail}
                )
        if row_problems:
            problems.append(_("Row %(row)s: %(problems)s") % {"row": number, "problems": "；".join(row_problems)})
        else:
            parsed.append(ParsedRow(number, city, batch, values))
    if problems:
        raise ValidationError(problems)
    if not parsed:
        raise ValidationError(_("The table has no rows of cities."))
    return parsed


# ------------------------------------------------------------------------------------------------
# Loading
# ------------------------------------------------------------------------------------------------
def published_load(
    *, round_: Round, upload: IO[bytes], name: str, actor: User | None = None, dry_run: bool = False
) -> LoadResult:
    """Load a published table as the published figures of `round_`: every row or none (see the
    module's docstring). With `dry_run`, everything is checked and counted, and nothing is kept."""
    parsed = parse_table(read_table(upload, name), round_)
    result = LoadResult(rows=len(parsed))
    rounds = {r.year: r for r in Round.objects.all()}
    with transaction.atomic():
        existing = {figure.city_id: figure for figure in PublishedFigure.objects.filter(round=round_)}
        for row in parsed:
            if not Designation.objects.filter(city=row.city).exists():
                try:
                    designation_create(
                        city_id=row.city.pk,
                        round_=rounds[row.batch],
                        source=Designation.Source.PUBLISHED,
                        designated_on=rounds[row.batch].published_on,
                    )
                except Conflict as exc:  # named by a decision since the rows were checked
                    message = _("Row %(row)s: %(problems)s") % {"row": row.row, "problems": exc.message}
                    raise ValidationError(message) from None
                result.named.append(row.city.name)
            values = {f"value_{code}": value for code, value in row.values.items()}
            figure = existing.pop(row.city.pk, None)
            if figure is None:
                PublishedFigure.objects.create(
                    round=round_, city=row.city, batch=row.batch, source=name, row=row.row, loaded_by=actor, **values
                )
                result.created += 1
            elif any(getattr(figure, key) != value for key, value in values.items()) or figure.batch != row.batch:
                for key, value in values.items():
                    setattr(figure, key, value)
                figure.batch, figure.source, figure.row, figure.loaded_by = row.batch, name, row.row, actor
                figure.save()
                result.updated += 1
            else:
                result.unchanged += 1
        result.removed = len(existing)
        PublishedFigure.objects.filter(pk__in=[figure.pk for figure in existing.values()]).delete()
        if dry_run:
            transaction.set_rollback(True)
    return result
