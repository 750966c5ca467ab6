"""The static files' storage in production: whitenoise's (compressed, with hashed names from the
manifest), with each file's URL worked out once per process.

`{% static %}` asks the storage for a file's URL on every page (the stylesheet, the script, the
icons of the base template): the manifest's lookup, then quoting and joining the URL, about 50 µs
each time. The manifest is read when the process starts and the files do not change while it runs
(a new release is a new process), so a URL found once is the URL for the process's life."""

from __future__ import annotations

from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._urls: dict[tuple[str, bool], str] = {}

    def url(self, name, force=False):
        key = (name, force)
        url = self._urls.get(key)
        if url is None:
            url = self._urls[key] = super().url(name, force)
        return url
