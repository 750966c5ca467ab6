"""The draft of MIIT's circular on a round (通报, e.g. 工信厅通信函〔2022〕327号) as a Word document.

Its body states the headline figures as MIIT writes them — how many cities met the standard this
round and in total, by 东部/中部/西部 and by batch, and for each indicator the mean over the Gigabit
Cities, per batch, against the national reference value; 附件1 is the key-indicator table of every
Gigabit City so far (备注 = batch; with each city's support policies when the round says so, as MIIT's
table is from 2023 on); 附件2 the overview and typical practices of each city named in the round.

The figures come from one read (`circular_figures`): the rows of MIIT's summary table
(`dashboards.summary_rows`, the same as the Excel export) and the forms of the new cities. The means
in the text are computed from the table's rows, so the text and 附件1 always agree.

The ministry edits the draft in Word: every page says 征求意见稿, the title says it, and the first
lines say that it is generated and not an official document.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import IO, Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, pgettext
from docx.shared import Pt

from gigacity import docx as word
from gigacity.errors import NothingToShow, RoleNotAllowed
from gigacity.i18n import in_english, pick
from gigacity.models import Province, Region, User
from indicators.catalogue import CASE_DOMAINS, INDICATORS, INDICATORS_BY_CODE, IndicatorSpec, Kind
from indicators.models import Designation, ReferenceValue, Round
from submissions.models import Submission

from . import dashboards
from .exports import SUMMARY_COLUMNS

Progress = Callable[[int, int], None]

PRACTICES = (
    ("practice_network", gettext_noop("In network building: ")),
    ("practice_users", gettext_noop("In user adoption: ")),
    ("practice_applications", gettext_noop("In applications: ")),
)


# ------------------------------------------------------------------------------------------------
# The figures
# ------------------------------------------------------------------------------------------------
@dataclass
class CircularCity:
    code: str
    name: str
    province: str
    province_name: str
    region: str
    batch: int
    values: dict[str, Decimal | None]
    policies: str = ""
    form: Submission | None = None  # the form it was named on (None: named from the published list)


@dataclass
class IndicatorMean:
    spec: IndicatorSpec
    mean: Decimal | None
    n: int
    by_batch: list[tuple[int, Decimal | None, int]]
    reference: Decimal | None


@dataclass
class CircularFigures:
    round: Round
    cities: list[CircularCity]  # every Gigabit City up to the round, in MIIT's order
    new: list[CircularCity]  # those named in the round
    batches: list[tuple[int, int]]  # (year, cities named that year)
    regions_new: dict[str, int] = field(default_factory=dict)
    regions_total: dict[str, int] = field(default_factory=dict)
    means: list[IndicatorMean] = field(default_factory=list)


def ensure_can_write(user: User) -> None:
    if not user.has_national_scope:
        raise RoleNotAllowed(_("The draft circular is written by ministry staff."))


def ensure_something_to_show(round_: Round) -> None:
    """Refuse a circular on a round that named nobody, rather than an empty document."""
    if not Designation.objects.filter(round=round_).exists():
        raise NothingToShow(
            _("No city was named a Gigabit City in the %(year)s round: there is nothing to circulate yet.")
            % {"year": round_.year}
        )


def mean_of(values: list[Decimal], spec: IndicatorSpec) -> Decimal | None:
    return dashboards.mean(sum(values, Decimal(0)), len(values), spec) if values else None


def circular_figures(*, user: User, round_: Round) -> CircularFigures:
    """Everything the circular states, for ministry staff (the whole country)."""
    ensure_can_write(user)
    regions = dict(Province.objects.values_list("code", "region"))
    cities = [
        CircularCity(
            code=row["city"],
            name=row["city_name"],
            province=row["province"],
            province_name=row["province_name"],
            region=regions[row["province"]],
            batch=row["batch"],
            values={code: row["values"][code] for code, _zh, _en in SUMMARY_COLUMNS},
        )
        for row in dashboards.summary_rows(user=user, round_=round_, cumulative=True)
    ]
    # The forms the cities were named on: their policies (附件1) and practices (附件2).
    forms = {
        (form.city_id, form.round.year): form
        for form in Submission.objects.visible_to(user)
        .filter(city__in=[c.code for c in cities], round__year__lte=round_.year)
        .select_related("round")
        .prefetch_related("cases")
    }
    for city in cities:
        city.form = forms.get((city.code, city.batch))
        city.policies = city.form.support_policies if city.form else ""

    years = sorted({city.batch for city in cities})
    new = [city for city in cities if city.batch == round_.year]
    references = dict(ReferenceValue.objects.filter(round=round_).values_list("indicator_id", "value"))
    means = []
    for spec in INDICATORS:
        values = [city.values[spec.code] for city in cities if city.values[spec.code] is not None]
        by_batch = []
        for year in years:
            batch = [c.values[spec.code] for c in cities if c.batch == year and c.values[spec.code] is not None]
            by_batch.append((year, mean_of(batch, spec), len(batch)))
        means.append(IndicatorMean(spec, mean_of(values, spec), len(values), by_batch, references.get(spec.code)))
    return CircularFigures(
        round=round_,
        cities=cities,
        new=new,
        batches=[(year, sum(1 for c in cities if c.batch == year)) for year in years],
        regions_new={r: sum(1 for c in new if c.region == r) for r in Region.values},
        regions_total={r: sum(1 for c in cities if c.region == r) for r in Region.values},
        means=means,
    )


# ------------------------------------------------------------------------------------------------
# Words and numbers
# ------------------------------------------------------------------------------------------------
def number(value: Decimal | None, spec: IndicatorSpec, *, grouping: bool = True) -> str:
    """A value at MIIT's precision (half up, as published): one decimal for rates and per-10k
    figures, whole numbers for counts."""
    if value is None:
        return "—"
    quantum = Decimal(1).scaleb(-spec.decimals)
    rounded = Decimal(value).quantize(quantum, rounding=ROUND_HALF_UP)
    return f"{rounded:,}" if grouping and spec.kind == Kind.COUNT else f"{rounded}"


def with_unit(value: Decimal | None, spec: IndicatorSpec) -> str:
    text = number(value, spec, grouping=False)
    unit = pick(spec.unit_zh, spec.unit_en)
    if unit == "%":
        return f"{text}%"
    return f"{text} {unit}" if in_english() else f"{text}{unit}"


def listing(items: list[str]) -> str:
    return pgettext("list separator", ", ").join(items)


CHINESE_DIGITS = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """1 → 一, 12 → 十二, 40 → 四十, 99 → 九十九 (headings of 附件2 count the cities this way)."""
    if n < 10:
        return CHINESE_DIGITS[n]
    tens, ones = divmod(n, 10)
    if n >= 100:
        return str(n)
    return f"{'' if tens == 1 else CHINESE_DIGITS[tens]}十{CHINESE_DIGITS[ones] if ones else ''}"


def ordinal(n: int) -> str:
    """The number of a heading: 一、 in Chinese, 1. in English."""
    return f"{n}. " if in_english() else f"{chinese_number(n)}、"


def region_counts(counts: dict[str, int]) -> dict[str, int]:
    return {key: counts.get(key, 0) for key in ("east", "central", "west")}


def headline_sentences(figures: CircularFigures) -> list[str]:
    """The body's figures as sentences, in the order the circular states them."""
    year = figures.round.year
    n, total = len(figures.new), len(figures.cities)
    return [
        _(
            "Of the %(n)s cities that met the standard in %(year)s, %(east)s are in the eastern region, "
            "%(central)s in the central region and %(west)s in the western region."
        )
        % {"n": n, "year": year, **region_counts(figures.regions_new)},
        _(
            "Of the %(total)s Gigabit Cities nationwide, %(east)s are in the eastern region, %(central)s in "
            "the central region and %(west)s in the western region; by batch, %(batches)s."
        )
        % {
            "total": total,
            **region_counts(figures.regions_total),
            "batches": listing([_("%(year)s: %(n)s") % {"year": y, "n": count} for y, count in figures.batches]),
        },
    ]


def indicator_sentence(row: IndicatorMean, *, cities: int) -> str:
    name = pick(row.spec.name_zh, row.spec.name_en)
    if row.mean is None:
        return _("No Gigabit City has reported %(indicator)s yet.") % {"indicator": name}
    text = _("The mean %(indicator)s of the Gigabit Cities is %(value)s") % {
        "indicator": name,
        "value": with_unit(row.mean, row.spec),
    }
    if row.n < cities:
        text += _(" (over the %(n)s cities with data)") % {"n": row.n}
    batches = [(year, mean) for year, mean, n in row.by_batch if mean is not None]
    if len(row.by_batch) > 1 and batches:
        text += _("; by batch, %(batches)s") % {
            "batches": listing(
                [
                    _("the %(year)s batch %(value)s") % {"year": year, "value": with_unit(mean, row.spec)}
                    for year, mean in batches
                ]
            )
        }
    if row.reference is not None:
        text += _("; the national reference value is %(value)s") % {"value": with_unit(row.reference, row.spec)}
    return text + pgettext("end of a sentence", ".")


def overview_sentence(city: CircularCity) -> str:
    """附件2: a new city's key figures in one sentence."""
    values = [
        f"{pick(spec.name_zh, spec.name_en)}{'' if not in_english() else ' '}{with_unit(city.values[spec.code], spec)}"
        for spec in (INDICATORS_BY_CODE[code] for code, _zh, _en in SUMMARY_COLUMNS)
        if city.values[spec.code] is not None
    ]
    if not values:
        return ""
    return _("Its survey form of %(year)s reports: %(values)s.") % {"year": city.batch, "values": listing(values)}


def cases_sentence(city: CircularCity) -> str:
    cases = list(city.form.cases.all()) if city.form else []
    if not cases:
        return ""
    labels = {code: pick(zh, en) for code, zh, en in CASE_DOMAINS}
    domains = [labels[code] for code, _zh, _en in CASE_DOMAINS if any(c.domain == code for c in cases)]
    return _("It reported %(n)s “dual gigabit” application cases, in %(domains)s.") % {
        "n": len(cases),
        "domains": listing(domains) or "—",
    }


# ------------------------------------------------------------------------------------------------
# The document
# ------------------------------------------------------------------------------------------------
def circular_filename(round_: Round) -> str:
    return _("Draft circular on the Gigabit Cities of %(year)s (for comment).docx") % {"year": round_.year}


def table_title(round_: Round) -> str:
    if round_.circular_policies:
        return _("Summary table of key indicators and support policies of Gigabit Cities")
    return _("Summary table of key indicators of Gigabit Cities")


def practices_title(round_: Round) -> str:
    return _("Overview and typical practices of the Gigabit Cities of %(year)s") % {"year": round_.year}


CODES = tuple(code for code, _zh, _en in SUMMARY_COLUMNS)  # MIIT's column order


def circular_document(*, user: User, round_: Round, out: IO[bytes], progress: Progress | None = None) -> int:
    """Write the draft circular; returns the number of Gigabit Cities in 附件1. NothingToShow when
    the round named nobody."""
    ensure_can_write(user)
    ensure_something_to_show(round_)
    figures = circular_figures(user=user, round_=round_)
    steps = Steps(progress, len(figures.cities) + len(figures.new))
    document = word.new_document(header=_("Draft for comment"))
    properties = document.core_properties
    properties.title = _("Circular on the Gigabit Cities of %(year)s") % {"year": round_.year}
    properties.author = str(settings.GIGACITY_SYSTEM_NAME)
    properties.comments = _("Draft for comment")
    _body(document, figures)
    _annex_table(document, figures, steps)
    _annex_practices(document, figures, steps)
    word.save(document, out)
    return len(figures.cities)


class Steps:
    """Progress of a job, reported every 50 steps and at the end."""

    def __init__(self, progress: Progress | None, total: int):
        self.progress, self.total, self.done = progress, total, 0

    def __call__(self) -> None:
        self.done += 1
        if self.progress is not None and (self.done == self.total or self.done % 50 == 0):
            self.progress(self.done, self.total)


def _body(document, figures: CircularFigures) -> None:
    round_, year = figures.round, figures.round.year
    word.note(
        document,
        _(
            "DRAFT FOR COMMENT — generated by %(system)s on %(date)s from the data as they stood then. It is "
            "not an official document until the ministry has edited, approved and issued it."
        )
        % {"system": settings.GIGACITY_SYSTEM_NAME, "date": timezone.localdate().isoformat()},
        color=word.RED,
    )
    word.blank(document)
    word.title(
        document,
        _(
            "Circular of the General Office of the Ministry of Industry and Information Technology on the "
            "construction of Gigabit Cities in %(year)s"
        )
        % {"year": year},
    )
    word.centred(document, _("(Draft for comment)"), font=word.SUBHEADING_FONT, color=word.RED)
    word.centred(document, _("MIIT General Office Communications Letter [    ] No.    "))
    word.blank(document)
    word.body(
        document,
        _(
            "Communications administrations of all provinces, autonomous regions and municipalities; "
            "departments in charge of industry and information technology and of the big-data industry:"
        ),
        indent=False,
    )
    opening = {"year": year, "n": len(figures.new), "total": len(figures.cities), "notice": round_.notice}
    if round_.notice:
        text = _(
            "To implement the decisions of the CPC Central Committee and the State Council on accelerating "
            "“dual gigabit” networks, and as required by the Notice on the %(year)s evaluation of Gigabit City "
            "construction (%(notice)s), the ministry evaluated the construction of Gigabit Cities in %(year)s. "
            "After the cities' self-assessment, evaluation and recommendation by the provincial communications "
            "administrations and review by the ministry, %(n)s cities met the Gigabit City standard in %(year)s "
            "(list and key indicators in Annex 1); Gigabit Cities now number %(total)s nationwide. The situation "
            "is circulated as follows:"
        )
    else:
        text = _(
            "To implement the decisions of the CPC Central Committee and the State Council on accelerating "
            "“dual gigabit” networks, and as required by the Notice on the %(year)s evaluation of Gigabit City "
            "construction, the ministry evaluated the construction of Gigabit Cities in %(year)s. After the "
            "cities' self-assessment, evaluation and recommendation by the provincial communications "
            "administrations and review by the ministry, %(n)s cities met the Gigabit City standard in %(year)s "
            "(list and key indicators in Annex 1); Gigabit Cities now number %(total)s nationwide. The situation "
            "is circulated as follows:"
        )
    word.body(document, text % opening)

    word.heading(document, ordinal(1) + _("Overall situation"))
    for sentence in headline_sentences(figures):
        word.body(document, sentence)
    word.heading(document, ordinal(2) + pgettext("circular", "Key indicators"))
    word.body(
        document,
        _(
            "Means are simple averages over the Gigabit Cities with data, at the precision MIIT publishes (one "
            "decimal for rates and per-10,000 figures, whole numbers for counts); each city counts with the "
            "values it reported in the round it was named."
        ),
    )
    for row in figures.means:
        word.body(document, indicator_sentence(row, cities=len(figures.cities)))
    word.heading(document, ordinal(3) + _("Typical practices"))
    word.body(
        document,
        _(
            "The cities named in %(year)s have formed typical practices in network building, user adoption and "
            "applications; their overviews and practices are in Annex 2."
        )
        % {"year": year},
    )
    word.heading(document, ordinal(4) + _("Next steps"))
    word.body(document, _("[To be written by the ministry.]")).runs[-1].font.color.rgb = word.RED
    word.blank(document)
    word.body(document, _("Annexes: 1. %(title)s") % {"title": table_title(round_)})
    word.body(document, _("2. %(title)s") % {"title": practices_title(round_)}).paragraph_format.first_line_indent = Pt(
        112
    )
    word.signature_block(
        document,
        [_("General Office of the Ministry of Industry and Information Technology"), _("(date to be filled in)")],
    )


def table_rows(figures: CircularFigures) -> tuple[list[str], list[list[Any]], list[list[Any]]]:
    """附件1: the header, a row per Gigabit City (MIIT's order) and the rows of means below them."""
    with_policies = figures.round.circular_policies
    header = [_("No."), _("Province"), _("Gigabit City"), *(pick(zh, en) for _code, zh, en in SUMMARY_COLUMNS)]
    if with_policies:
        header.append(_("Support policies"))
    header.append(_("Remarks"))
    rows = []
    for index, city in enumerate(figures.cities, start=1):
        row: list[Any] = [index, city.province_name, city.name]
        row += [number(city.values[code], INDICATORS_BY_CODE[code]) for code in CODES]
        if with_policies:
            row.append(city.policies or "—")
        row.append(_("%(year)s round") % {"year": city.batch})
        rows.append(row)
    means = {row.spec.code: row for row in figures.means}
    summary = [[_("Mean of Gigabit Cities"), "", "", *(number(means[c].mean, means[c].spec) for c in CODES)]]
    if len(figures.batches) > 1:
        for position, (year, _count) in enumerate(figures.batches):
            label = _("of which the %(year)s batch") % {"year": year}
            summary.append([label, "", "", *(number(means[c].by_batch[position][1], means[c].spec) for c in CODES)])
    summary.append(
        [
            pgettext("circular", "National reference value"),
            "",
            "",
            *(number(means[c].reference, means[c].spec) for c in CODES),
        ]
    )
    for row in summary:
        row.extend([""] * (len(header) - len(row)))
    return header, rows, summary


def _annex_table(document, figures: CircularFigures, steps: Steps) -> None:
    round_ = figures.round
    word.add_section(document, landscape=True)
    word.body(document, _("Annex %(n)s") % {"n": 1}, indent=False)
    word.title(document, table_title(round_), size=word.SIZE_3)
    word.centred(document, _("(as of the %(year)s round)") % {"year": round_.year}, size=word.SIZE_S4)
    header, rows, summary = table_rows(figures)
    for _row in rows:
        steps()
    policies = 1 if round_.circular_policies else 0
    widths = [10, 18, 20, *([19] * len(CODES)), *([45] * policies), 17]
    scale = 237 / sum(widths)  # the landscape text block is 237 mm wide
    word.table(
        document,
        header,
        [*rows, *summary],
        widths=[w * scale for w in widths],
        numeric=[True, False, False, *([True] * len(CODES)), *([False] * policies), False],
        bold_rows=range(len(rows), len(rows) + len(summary)),
    )
    word.note(
        document,
        _(
            "Values are those each city reported in the round it was named; “—”: no data (cities named from "
            "the published list before this system have no form in it)."
        ),
    )


def _annex_practices(document, figures: CircularFigures, steps: Steps) -> None:
    round_ = figures.round
    word.add_section(document, landscape=False)
    word.body(document, _("Annex %(n)s") % {"n": 2}, indent=False)
    word.title(document, practices_title(round_), size=word.SIZE_3)
    word.blank(document)
    _practices(document, figures, steps)


def _practices(document, figures: CircularFigures, steps: Steps) -> None:
    round_ = figures.round
    space = " " if in_english() else ""
    for index, city in enumerate(figures.new, start=1):
        word.heading(document, f"{ordinal(index)}{city.province_name}{space}{city.name}")
        word.heading(document, _("(1) Overview"), level=2)
        overview = space.join(s for s in (overview_sentence(city), cases_sentence(city)) if s)
        word.body(
            document,
            overview or _("No survey form of this city is held in the system (it was named from the published list)."),
        )
        word.heading(document, _("(2) Typical practices"), level=2)
        if city.form is None:
            word.body(document, "—")
        else:
            for name, label in PRACTICES:
                word.user_text(document, getattr(city.form, name), label=_(label))
        if round_.circular_policies:
            word.heading(document, _("(3) Support policies"), level=2)
            word.user_text(document, city.policies)
        steps()
