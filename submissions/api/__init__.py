"""The submissions API (`/api/v1/submissions/`, the attachments and the Excel endpoints)."""

from ..excel.api import ProvinceImportView, ProvinceWorkbookView
from .views import AttachmentViewSet, SubmissionViewSet

__all__ = ["AttachmentViewSet", "ProvinceImportView", "ProvinceWorkbookView", "SubmissionViewSet"]
