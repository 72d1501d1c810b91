#!/usr/bin/env bash
# Translations: `scripts/messages.sh compile` (make test / make run) builds locale/*/LC_MESSAGES/*.mo,
# which are build output and not committed; `scripts/messages.sh make` refreshes the German .po from
# the code and templates. Installs gettext (msgfmt) with apt-get when it is missing and we are root.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v msgfmt >/dev/null; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    printf '\033[1;34m==>\033[0m %s\n' "Installing gettext with apt-get"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext >/dev/null
  else
    echo "xx msgfmt not found: install gettext (apt-get install gettext)" >&2
    exit 1
  fi
fi

case "${1:-compile}" in
  make) .venv/bin/python manage.py makemessages -l de --no-location ;;
  compile)
    for po in locale/*/LC_MESSAGES/*.po; do
      msgfmt --check-format -o "${po%.po}.mo" "$po"
    done
    ;;
  *) echo "usage: $0 [compile|make]" >&2; exit 2 ;;
esac
