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


@checks.register(checks.Tags.security, deploy=False)
def audit_retention_long_enough(app_configs, **kwargs):
    from django.conf import settings

    from .audit.services import MINIMUM_RETENTION_DAYS

    if settings.GIGACITY_AUDIT_RETENTION_DAYS < MINIMUM_RETENTION_DAYS:
        return [
            checks.Error(
                f"GIGACITY_AUDIT_RETENTION_DAYS is {settings.GIGACITY_AUDIT_RETENTION_DAYS}; the security "
                f"audit trail must be kept at least {MINIMUM_RETENTION_DAYS} days.",
                hint="等保 2.0 asks for six months; the database refuses to delete younger records anyway.",
                id="gigacity.E002",
            )
        ]
    return []
