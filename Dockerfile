# The mall's image: web (gunicorn), worker and beat all run from it (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=mall.settings.prod

# fonts-noto-cjk: distribution posters draw Chinese text. gettext: compilemessages.
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-noto-cjk gettext \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system mall && useradd --system --gid mall --home-dir /app --shell /sbin/nologin mall

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY --chown=mall:mall . .

# Static files are collected at build time (WhiteNoise serves them); the key is a build-only
# placeholder, the real SECRET_KEY comes from the environment at run time.
RUN SECRET_KEY=build-only-not-secret-0123456789abcdefghijklmnopqrstuvwxyz \
    python manage.py collectstatic --noinput --verbosity 0 \
    && SECRET_KEY=build-only-not-secret-0123456789abcdefghijklmnopqrstuvwxyz \
       python manage.py compilemessages --ignore "*/site-packages/*" --verbosity 0 \
    && mkdir -p /app/media \
    && chown -R mall:mall /app/staticfiles /app/media

USER mall
EXPOSE 8000

CMD ["gunicorn", "mall.wsgi:application", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
