# Every target calls the same scripts as the README and CI.
.DEFAULT_GOAL := help
SHELL := /bin/bash
PY := .venv/bin/python

.PHONY: help demo test lint format migrate ci

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

demo: ## run the demo shop on SQLite (bash scripts/demo.sh; PORT=8000)
	bash scripts/demo.sh

test: ## run the test suite (bash scripts/test.sh; DATABASE_URL/REDIS_URL optional)
	bash scripts/test.sh

lint: ## ruff check, format check, import layers, missing migrations
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/lint-imports --no-cache
	$(PY) manage.py makemigrations --check --dry-run

format: ## ruff fix and format
	.venv/bin/ruff check --fix .
	.venv/bin/ruff format .

migrate: ## apply migrations
	$(PY) manage.py migrate --noinput

ci: ## what CI runs (starts PostgreSQL and Redis if needed): bash .ci/run
	bash .ci/run
