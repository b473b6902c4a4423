#!/usr/bin/env bash
# Runs every check of the project: go vet and the race-enabled tests of
# every module listed in go.work (the library, its examples and, when
# present, the SQL storage modules).
set -euo pipefail
cd "$(dirname "$0")"
pkgs=()
for dir in $(go list -m -f '{{.Dir}}'); do pkgs+=("$dir/..."); done
go vet "${pkgs[@]}"
go test -race -count=1 "${pkgs[@]}"
