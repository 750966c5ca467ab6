"""The Celery application. Settings come from Django's, under the CELERY_ namespace."""

import os

from celery import Celery, Task
from celery.worker.request import Request as CeleryRequest

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gigacity.settings")


class Request(CeleryRequest):
    """A task request whose acknowledgement, when the broker was lost as the task finished, is
    logged as not made instead of stopping the worker.

    When the worker loses Redis it closes the connection at once; a task that finishes in that
    moment is acknowledged on a channel whose connection is gone, and kombu's Redis channel then
    raises AttributeError (no connection parameters left), which is not among the connection errors
    Celery catches there. Raised in the worker's event loop, it is an "unrecoverable error" and the
    worker shuts down for good. The acknowledgement could not reach Redis anyway: the message comes
    back after the visibility timeout, or the sweep publishes the form again, and the claim step
    scores it once either way.
    """

    def __init__(self, *args, connection_errors=None, **kwargs):
        super().__init__(*args, connection_errors=(*(connection_errors or ()), AttributeError), **kwargs)


class GigacityTask(Task):
    Request = Request


app = Celery("gigacity", task_cls=GigacityTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
