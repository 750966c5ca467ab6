"""Word documents in the layout of a Chinese government document (GB/T 9704-2012, 党政机关公文格式):
A4, the standard margins, 方正小标宋简体 for titles, 仿宋_GB2312 for the body, 黑体 and 楷体_GB2312 for
headings, page numbers as "— 1 —". Written with python-docx.

The fonts are named as the standard names them; a reader without them gets the substitute the font
table names (仿宋, 宋体, 黑体, 楷体, all shipped with Chinese Windows and WPS), and Word or WPS falls back
on its own from there.

Every text that comes from a user goes through `safe_text` and is written as the text of a run:
python-docx escapes it for XML, so markup stays text; a Word field exists only as `w:fldChar` and
`w:instrText` elements, which only `add_field` writes, with instructions from `FIELD_INSTRUCTIONS`
(a typed "{ DATE }" or "=1+1" is just characters); and characters XML cannot carry are dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import IO

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph
from docx.text.run import Run

# GB/T 9704 font sizes: 二号 22 pt, 三号 16 pt, 四号 14 pt, 小四 12 pt, 五号 10.5 pt.
SIZE_2 = Pt(22)
SIZE_3 = Pt(16)
SIZE_4 = Pt(14)
SIZE_S4 = Pt(12)
SIZE_5 = Pt(10.5)

TITLE_FONT = "方正小标宋简体"
BODY_FONT = "仿宋_GB2312"
HEADING_FONT = "黑体"
SUBHEADING_FONT = "楷体_GB2312"
SONG_FONT = "宋体"
LATIN_FONT = "Times New Roman"
# The standard's fonts and what Word or WPS uses where they are not installed.
FONT_FALLBACKS = {
    TITLE_FONT: "宋体",
    BODY_FONT: "仿宋",
    SUBHEADING_FONT: "楷体",
    HEADING_FONT: "SimHei",
}
RED = RGBColor(0xC0, 0x00, 0x00)

# The only field instructions a document may contain; user text never becomes one.
FIELD_INSTRUCTIONS = frozenset({"PAGE", "NUMPAGES", r'TOC \o "1-2" \h \z \u'})

# XML 1.0 cannot carry these (lxml refuses them); a form may hold them after a paste.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_LINE_BREAKS = re.compile(r"\r\n?|[\u2028\u2029\x85]")


def safe_text(value: object) -> str:
    """A user's text as a run can hold it: characters XML cannot carry dropped, line ends as \\n."""
    if value is None:
        return ""
    return _NOT_XML.sub("", _LINE_BREAKS.sub("\n", str(value)))


def paragraphs_of(value: object) -> list[str]:
    """A user's multi-line text as paragraphs (blank lines dropped)."""
    return [line.strip() for line in safe_text(value).split("\n") if line.strip()]


# ------------------------------------------------------------------------------------------------
# The document
# ------------------------------------------------------------------------------------------------
def new_document(*, header: str = "") -> DocumentObject:
    """An empty A4 document with the standard's margins, body font and line spacing, a centred page
    number "— n —" in the footer and, when given, a header line on every page (e.g. 征求意见稿)."""
    document = Document()
    section = document.sections[0]
    _a4(section, landscape=False)
    normal = document.styles["Normal"]
    normal.font.size = SIZE_3
    _fonts(normal.element.get_or_add_rPr(), BODY_FONT)
    spacing = normal.paragraph_format
    spacing.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    spacing.line_spacing = Pt(28)
    spacing.space_before = spacing.space_after = Pt(0)
    for name, font, size in (("Heading 1", HEADING_FONT, SIZE_3), ("Heading 2", SUBHEADING_FONT, SIZE_3)):
        style = document.styles[name]
        style.font.size, style.font.bold, style.font.italic = size, False, False
        style.font.color.rgb = RGBColor(0, 0, 0)
        _fonts(style.element.get_or_add_rPr(), font)
        style.paragraph_format.space_before = style.paragraph_format.space_after = Pt(0)
        style.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        style.paragraph_format.line_spacing = Pt(28)
        style.paragraph_format.first_line_indent = Pt(32)
    _font_table(document)

    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(footer, "— ", font=SONG_FONT, size=SIZE_4)
    add_field(footer, "PAGE", font=SONG_FONT, size=SIZE_4)
    _run(footer, " —", font=SONG_FONT, size=SIZE_4)
    if header:
        line = section.header.paragraphs[0]
        line.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        _run(line, header, font=HEADING_FONT, size=SIZE_5, color=RED)
    return document


def _a4(section, *, landscape: bool) -> None:
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    width, height = (Mm(297), Mm(210)) if landscape else (Mm(210), Mm(297))
    section.page_width, section.page_height = width, height
    # GB/T 9704: 天头 37 mm, 订口 28 mm, text block 156 × 225 mm.
    if landscape:
        section.top_margin, section.bottom_margin = Mm(28), Mm(26)
        section.left_margin, section.right_margin = Mm(30), Mm(30)
    else:
        section.top_margin, section.bottom_margin = Mm(37), Mm(35)
        section.left_margin, section.right_margin = Mm(28), Mm(26)
    section.footer_distance = Mm(20) if not landscape else Mm(12)
    section.header_distance = Mm(15) if not landscape else Mm(12)


def add_section(document: DocumentObject, *, landscape: bool = False):
    """A new section on a new page (portrait or landscape); header and footer carry on."""
    section = document.add_section(WD_SECTION.NEW_PAGE)
    _a4(section, landscape=landscape)
    return section


def new_paragraph(document: DocumentObject) -> Paragraph:
    """A new empty paragraph at the end of the body. python-docx's own `add_paragraph` looks through
    the whole body for the closing section properties at every call, so that a long document (a case
    collection of 1 300 cases) took quadratic time, minutes; here they are found once per document."""
    body = document.element.body
    closing = getattr(document, "_gigacity_closing", None)
    if closing is None or closing.getparent() is not body:
        closing = body.get_or_add_sectPr()
        document._gigacity_closing = closing
    element = OxmlElement("w:p")
    closing.addprevious(element)
    return Paragraph(element, document._body)


def blank(document: DocumentObject) -> None:
    new_paragraph(document)


def save(document: DocumentObject, out: IO[bytes]) -> None:
    document.save(out)


def _fonts(rpr, east_asia: str, latin: str = LATIN_FONT) -> None:
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attribute in ("w:ascii", "w:hAnsi", "w:cs"):
        fonts.set(qn(attribute), latin)
    fonts.set(qn("w:eastAsia"), east_asia)
    fonts.set(qn("w:hint"), "eastAsia")


def _font_table(document: DocumentObject) -> None:
    """Name a substitute for each of the standard's fonts (w:altName), for readers without them."""
    part = next((rel.target_part for rel in document.part.rels.values() if rel.reltype.endswith("/fontTable")), None)
    if part is None:
        return
    from docx.oxml import parse_xml

    root = parse_xml(part.blob)
    for name, fallback in FONT_FALLBACKS.items():
        font = OxmlElement("w:font")
        font.set(qn("w:name"), name)
        alt = OxmlElement("w:altName")
        alt.set(qn("w:val"), fallback)
        charset = OxmlElement("w:charset")
        charset.set(qn("w:val"), "86")  # GB2312
        family = OxmlElement("w:family")
        family.set(qn("w:val"), "modern" if name == BODY_FONT else "roman")
        font.extend([alt, charset, family])
        root.append(font)
    from lxml import etree

    part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _run(
    paragraph: Paragraph,
    text: str,
    *,
    font: str | None = None,
    size=None,
    bold: bool | None = None,
    color: RGBColor | None = None,
) -> Run:
    run = paragraph.add_run(safe_text(text))
    if font is not None:
        _fonts(run._r.get_or_add_rPr(), font)
    if size is not None:
        run.font.size = size
    if bold is not None:
        run.font.bold = bold
    if color is not None:
        run.font.color.rgb = color
    return run


def add_field(paragraph: Paragraph, instruction: str, *, result: str = "1", font: str | None = None, size=None) -> None:
    """A Word field (a page number, a table of contents) with `result` shown until Word updates it."""
    if instruction not in FIELD_INSTRUCTIONS:
        raise ValueError(f"not a field this module writes: {instruction!r}")
    _field_char(paragraph, "begin")
    run = paragraph.add_run()
    text = OxmlElement("w:instrText")
    text.set(qn("xml:space"), "preserve")
    text.text = f" {instruction} "
    run._r.append(text)
    _field_char(paragraph, "separate")
    if result:
        _run(paragraph, result, font=font, size=size)
    _field_char(paragraph, "end")


def _field_char(paragraph: Paragraph, kind: str) -> None:
    char = OxmlElement("w:fldChar")
    char.set(qn("w:fldCharType"), kind)
    paragraph.add_run()._r.append(char)


# ------------------------------------------------------------------------------------------------
# Blocks
# ------------------------------------------------------------------------------------------------
def title(document: DocumentObject, text: str, *, size=SIZE_2) -> Paragraph:
    paragraph = new_paragraph(document)
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph.paragraph_format.line_spacing = Pt(36)
    _run(paragraph, text, font=TITLE_FONT, size=size)
    return paragraph


def centred(document: DocumentObject, text: str, *, font: str = BODY_FONT, size=SIZE_3, color=None) -> Paragraph:
    paragraph = new_paragraph(document)
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(paragraph, text, font=font, size=size, color=color)
    return paragraph


def heading(document: DocumentObject, text: str, *, level: int = 1) -> Paragraph:
    """一、… (黑体) at level 1, （一）… (楷体) at level 2: Word's heading styles, so that the navigation
    pane and a table of contents find them."""
    paragraph = new_paragraph(document)
    # The style by its id: python-docx resolves a style's name by scanning every style, each time.
    paragraph._p.style = f"Heading{level}"
    _run(paragraph, text)
    return paragraph


def body(document: DocumentObject, text: str, *, indent: bool = True, bold_lead: str = "") -> Paragraph:
    """A body paragraph, first line indented two characters; `bold_lead` starts it in 黑体 (a label)."""
    paragraph = new_paragraph(document)
    if indent:
        paragraph.paragraph_format.first_line_indent = Pt(32)
    if bold_lead:
        _run(paragraph, bold_lead, font=HEADING_FONT)
    _run(paragraph, text)
    return paragraph


def user_text(document: DocumentObject, value: object, *, label: str = "", empty: str = "—") -> None:
    """A user's text as body paragraphs (one per line), the first led by `label` when given."""
    lines = paragraphs_of(value) or [empty]
    for index, line in enumerate(lines):
        body(document, line, bold_lead=label if index == 0 else "")


def note(document: DocumentObject, text: str, *, color: RGBColor | None = None, size=SIZE_S4) -> Paragraph:
    paragraph = new_paragraph(document)
    paragraph.paragraph_format.line_spacing = Pt(20)
    _run(paragraph, text, size=size, color=color)
    return paragraph


def right(document: DocumentObject, text: str) -> Paragraph:
    paragraph = new_paragraph(document)
    paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    paragraph.paragraph_format.right_indent = Pt(64)
    _run(paragraph, text)
    return paragraph


def page_break(document: DocumentObject) -> None:
    new_paragraph(document).add_run().add_break(WD_BREAK.PAGE)


def table(
    document: DocumentObject,
    header: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    widths: Sequence[float] | None = None,
    size=SIZE_5,
    numeric: Sequence[bool] | None = None,
    bold_rows: Iterable[int] = (),
) -> Table:
    """A bordered table with a header row repeated on every page; cells hold text (numbers already
    formatted), numbers right-aligned, widths in millimetres."""
    rows = [list(row) for row in rows]
    grid = document.add_table(rows=1 + len(rows), cols=len(header))
    grid.style = document.styles["Table Grid"]
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    bold = set(bold_rows)
    header_row = grid.rows[0]
    _repeat_header(header_row)
    for cell, text in zip(header_row.cells, header, strict=True):
        paragraph = cell.paragraphs[0]
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        paragraph.paragraph_format.line_spacing = Pt(size.pt * 1.3)
        paragraph.paragraph_format.first_line_indent = Pt(0)
        _run(paragraph, text, font=HEADING_FONT, size=size)
    # The cells straight from each row's XML: python-docx's `row.cells` lays out the whole table's
    # grid at every call, which made a table of a few hundred rows take seconds.
    body_rows = [[_Cell(tc, grid) for tc in row._tr.tc_lst] for row in list(grid.rows)[1:]]
    for index, values in enumerate(rows):
        for column, (cell, value) in enumerate(zip(body_rows[index], values, strict=True)):
            lines = paragraphs_of(value) or [""]
            for number, line in enumerate(lines):
                paragraph = cell.paragraphs[0] if number == 0 else cell.add_paragraph()
                paragraph.paragraph_format.line_spacing = Pt(size.pt * 1.3)
                paragraph.paragraph_format.first_line_indent = Pt(0)
                if numeric and numeric[column]:
                    paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
                _run(paragraph, line, size=size, font=HEADING_FONT if index in bold else None)
    if widths:
        for cells in [header_row.cells, *body_rows]:
            for cell, width in zip(cells, widths, strict=True):
                cell.width = Mm(width)
    return grid


def _repeat_header(row) -> None:
    properties = row._tr.get_or_add_trPr()
    repeat = OxmlElement("w:tblHeader")
    repeat.set(qn("w:val"), "true")
    properties.append(repeat)


def signature_block(document: DocumentObject, lines: Sequence[str]) -> None:
    """The issuing office and the date, right-aligned below the text."""
    new_paragraph(document)
    for line in lines:
        right(document, line)


def table_of_contents(document: DocumentObject, entries: Sequence[tuple[int, str]]) -> None:
    """A Word table of contents (a TOC field over the Heading styles) whose result is filled in with
    `entries` (level, text) already, so that it reads without updating; Word's "Update field" adds
    the page numbers."""
    first = new_paragraph(document)
    _field_char(first, "begin")
    run = first.add_run()
    instruction = OxmlElement("w:instrText")
    instruction.set(qn("xml:space"), "preserve")
    instruction.text = r' TOC \o "1-2" \h \z \u '
    run._r.append(instruction)
    _field_char(first, "separate")
    for level, text in entries:
        paragraph = new_paragraph(document)
        paragraph.paragraph_format.left_indent = Pt(0 if level == 1 else 32)
        _run(paragraph, text, font=HEADING_FONT if level == 1 else None, size=SIZE_4 if level == 1 else SIZE_S4)
    last = new_paragraph(document)
    _field_char(last, "end")
