# The two commands a newcomer needs: `make run` and `make test`.
# Both set everything up from nothing; a second run skips what is already done.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
SERVERS ?= 1
STAMP  := $(VENV)/.requirements-installed

.PHONY: run test test-long setup bench bench-class clean

# HOST=0.0.0.0 (any address but loopback) serves a class: see README, "Hosting it for a class".
run: setup
	$(BIN)/python -m webapp.launch --host $(HOST) --port $(PORT) --servers $(SERVERS)

test: setup
	$(BIN)/python -m pytest

# The long suites (fuzzing, load, many seeds): CI runs them after `make test`.
test-long: setup
	$(BIN)/python -m pytest -m long || [ $$? -eq 5 ]  # 5: no long suite collected

bench: setup
	$(BIN)/python -m bench

# A class against a server it starts on 127.0.0.1: 100 students dragging sliders.
bench-class: setup
	$(BIN)/python -m bench.class_load

setup: $(STAMP) locale/zh_Hans/LC_MESSAGES/django.mo
	@$(BIN)/python manage.py migrate --noinput -v 0

# Reinstall only when requirements.txt changes.
$(STAMP): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

# Compiled translations are built, not committed.
locale/%/LC_MESSAGES/django.mo: locale/%/LC_MESSAGES/django.po $(STAMP)
	$(BIN)/python manage.py compilemessages --locale $* --ignore '.venv/*' -v 0

clean:
	rm -rf $(VENV) var staticfiles
	find locale -name '*.mo' -delete
