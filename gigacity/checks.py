"""System checks for what `check --deploy` cannot see."""

from django.core import checks


@checks.register(checks.Tags.security, deploy=False)
def defusedxml_active(app_configs, **kwargs):
    # openpyxl guards against XML bombs only when defusedxml is importable *and* the
    # OPENPYXL_DEFUSEDXML variable has not switched it off (reliability.md XL-1).
    import openpyxl

    if not openpyxl.DEFUSEDXML:
        return [
            checks.Error(
                "openpyxl is not using defusedxml: uploaded workbooks could carry XML bombs.",
                hint="Install defusedxml and do not set OPENPYXL_DEFUSEDXML=False.",
                id="gigacity.E001",
            )
        ]
    return []
