# The gigacity image: web (gunicorn), Celery worker, Celery beat and the backup all run from it.
FROM python:3.11-slim-bookworm

# pg_dump and pg_restore for `manage.py backup` and `restore`: bookworm's client is PostgreSQL 15, the
# server's major version in docker-compose.yml (pg_dump refuses a newer server).
RUN apt-get update && apt-get install -y --no-install-recommends postgresql-client-15 \
    && rm -rf /var/lib/apt/lists/*

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DJANGO_STATIC_ROOT=/app/staticfiles \
    DJANGO_MEDIA_ROOT=/data/media \
    GIGACITY_BACKUP_DIR=/backups

WORKDIR /app
# Chromium prints the forms to PDF (gigacity/pdf.py), with the CJK fonts the print needs.
RUN apt-get update && apt-get install -y --no-install-recommends chromium fonts-noto-cjk && \
    rm -rf /var/lib/apt/lists/*
RUN useradd --system --uid 1000 --home /app gigacity && mkdir -p /data/media /backups \
    && chown -R gigacity /data /backups
COPY pyproject.toml README.md ./
COPY gigacity gigacity
COPY indicators indicators
COPY submissions submissions
COPY reviews reviews
COPY templates templates
COPY static static
COPY locale locale
COPY manage.py gunicorn.conf.py ./
RUN pip install . && \
    DJANGO_DEBUG=0 DJANGO_SECRET_KEY=build-only DJANGO_ALLOWED_HOSTS=localhost python manage.py collectstatic --noinput
USER gigacity
EXPOSE 8000
# Workers, threads and timeouts: gunicorn.conf.py (the benchmark starts gunicorn with the same file).
CMD ["gunicorn", "gigacity.wsgi:application", "-c", "gunicorn.conf.py", "--access-logfile", "-"]
