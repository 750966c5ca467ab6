"""The survey form as Excel workbooks: a city's template (one submission) and a province's workbook
(every editable city of a bureau's province), both downloaded pre-filled and uploaded back.

- `layout`: where every field sits, the sheet names and the signed metadata that ties a workbook to
  its city (or province) and round. The writer and the reader share it, so they cannot drift apart.
- `city`, `province`: writing the workbooks and reading them back into raw values with the cell of
  each value (never parsing numbers: `submissions.inputs` is the one place values are parsed).
- `imports`: the dry run and the import, through `drafts_update`.
- `pending`: an uploaded file kept between the dry run and the confirmation on the pages.
"""
