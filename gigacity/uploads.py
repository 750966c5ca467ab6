"""Upload size limits enforced by the application while the body is read, not after.

Django writes an uploaded file to memory or a temporary file before any view sees it, and
DATA_UPLOAD_MAX_MEMORY_SIZE does not count file data. This handler stops keeping a file once it passes
its limit: the rest of the request is read and thrown away (so the browser still gets an answer),
never written to disk. Install it before anything reads the body (the CSRF check does).
"""

from __future__ import annotations

from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import HttpRequest


class UploadSizeLimit(FileUploadHandler):
    def __init__(self, request: HttpRequest, limit: int):
        super().__init__(request)
        self.limit = limit
        self.seen = 0

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        self.seen = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.seen += len(raw_data)
        if self.seen > self.limit:
            self.request.upload_too_large = True
            raise SkipFile
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


def limit_upload(request: HttpRequest, limit: int) -> None:
    request.upload_too_large = False
    request.upload_handlers.insert(0, UploadSizeLimit(request, limit))


def too_large(request: HttpRequest) -> bool:
    return bool(getattr(request, "upload_too_large", False))
