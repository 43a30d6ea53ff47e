#!/usr/bin/env bash
# Debian packages the platform and its tests use. Installs only what is missing,
# so a prepared machine pays nothing and a fresh one gets everything.
set -euo pipefail
# chromium drives the browser tests (Playwright, never a downloaded browser); the CJK
# fonts let it render Chinese pages and screenshots; pg_trgm ships in postgresql-contrib.
packages=(postgresql postgresql-contrib chromium fonts-noto-cjk)
# Credit reports (WeasyPrint): Pango draws the pages; HarfBuzz's subsetter embeds only the
# glyphs used, in milliseconds where WeasyPrint's fontTools fallback takes seconds for a
# CJK face; WenQuanYi Micro Hei is the one face a report uses for Chinese and Latin;
# poppler-utils (pdftotext, pdftoppm, pdffonts) lets the tests read the PDFs.
packages+=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-wqy-microhei poppler-utils)
# wrk loads the web tier in benchmarks/web_bench.py: a client in C, so the load it makes
# costs the two cores it shares with the server little.
packages+=(wrk)
# PyICU, which nomenklatura (the match benchmark's baseline, a dev tool) reaches through
# normality, is published as source only: it builds against ICU with a C++ compiler.
packages+=(libicu-dev pkg-config g++)
# The Spark engine (issue 17): pyspark runs on a Java 17 runtime and reads PostgreSQL
# over JDBC with Debian's driver (/usr/share/java/postgresql.jar).
packages+=(openjdk-17-jre-headless libpostgresql-jdbc-java)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "system-packages.sh: missing ${missing[*]}; run as root or install them" >&2
        exit 1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
