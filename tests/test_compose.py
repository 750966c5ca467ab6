"""docker-compose.yml describes a correct production stack (Docker cannot run here; the structure can
be checked)."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def load():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def test_every_service_of_the_stack_is_there_with_a_healthcheck():
    services = load()["services"]
    assert {"db", "redis", "web", "worker", "beat"} <= set(services)
    for name in ("db", "redis", "web", "worker", "beat"):
        assert "test" in services[name]["healthcheck"], name


def test_app_services_wait_for_healthy_services_and_migrations():
    services = load()["services"]
    for name in ("web", "worker", "beat"):
        depends = services[name]["depends_on"]
        assert depends["db"]["condition"] == "service_healthy", name
        assert depends["redis"]["condition"] == "service_healthy", name
        assert depends["migrate"]["condition"] == "service_completed_successfully", name


def test_commands_and_production_environment():
    services = load()["services"]
    assert services["web"]["command"][0] == "gunicorn"
    assert services["worker"]["command"][:4] == ["celery", "-A", "gigacity", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "gigacity", "beat"]
    environment = services["web"]["environment"]
    assert environment["DJANGO_DEBUG"] == "0"
    assert environment["DATABASE_URL"].startswith("postgres://") and "@db:5432/" in environment["DATABASE_URL"]
    assert environment["CELERY_BROKER_URL"] == "redis://redis:6379/0"
    assert "load_reference" in " ".join(services["migrate"]["command"])


def test_web_runs_with_the_settings_file_the_benchmark_measures():
    """Production and `python -m bench` start gunicorn from one file (threaded workers): a worker
    count typed into the compose file or the image would silently differ from what was measured."""
    import runpy

    command = load()["services"]["web"]["command"]
    assert command[command.index("-c") + 1] == "gunicorn.conf.py"
    assert "--workers" not in command and "--threads" not in command
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert '"-c", "gunicorn.conf.py"' in dockerfile and "gunicorn.conf.py ./" in dockerfile
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert settings["worker_class"] == "gthread" and settings["threads"] > 1


def test_data_lives_in_named_volumes():
    compose = load()
    assert "pgdata:/var/lib/postgresql/data" in compose["services"]["db"]["volumes"]
    assert "media:/data/media" in compose["services"]["web"]["volumes"]
    assert {"pgdata", "redisdata", "media"} <= set(compose["volumes"])
    assert "noeviction" in compose["services"]["redis"]["command"]


def test_the_env_example_documents_every_variable_the_settings_read():
    import re

    settings_source = (ROOT / "gigacity" / "settings.py").read_text(encoding="utf-8")
    read = set(re.findall(r'env_(?:bool|int|list)\("([A-Z_]+)"', settings_source))
    read |= set(re.findall(r'os\.environ\.get\("([A-Z_]+)"', settings_source))
    documented = set(re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text(encoding="utf-8"), re.M))
    assert read - documented == set()


def test_a_backup_service_runs_every_night_into_its_own_volume_and_restore_is_at_hand():
    compose = load()
    backup, restore = compose["services"]["backup"], compose["services"]["restore"]
    assert backup["command"][:4] == ["python", "manage.py", "backup", "--daily-at"]
    assert "backups:/backups" in backup["volumes"] and "media:/data/media:ro" in backup["volumes"]
    assert backup["environment"]["GIGACITY_BACKUP_DIR"] == "/backups"
    assert "/backups" in " ".join(backup["healthcheck"]["test"])
    assert backup["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert "backups" in compose["volumes"]
    # Restoring is deliberate: never started by `up`, and it only reads the backups.
    assert restore["profiles"] == ["restore"] and restore["entrypoint"][-1] == "restore"
    assert "backups:/backups:ro" in restore["volumes"] and "media:/data/media" in restore["volumes"]
    assert "migrate" not in restore["depends_on"]


def test_the_image_has_the_postgresql_client_of_the_servers_major_version():
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    server = load()["services"]["db"]["image"]
    assert server.startswith("postgres:15") and "postgresql-client-15" in dockerfile
