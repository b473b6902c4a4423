module github.com/scimkit/scimkit/conformance/difftest

go 1.25.0

require (
	github.com/jackc/pgx/v5 v5.8.0
	github.com/scimkit/scimkit v0.1.0
	github.com/scimkit/scimkit/storage/postgres v0.1.0
	github.com/scimkit/scimkit/storage/sqlite v0.1.0
	github.com/stretchr/testify v1.12.1
)

require (
	github.com/di-wu/xsd-datetime v1.0.0 // indirect
	github.com/dustin/go-humanize v1.0.1 // indirect
	github.com/elimity-com/scim v0.0.0-20240320110924-172bf2aee9c8 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/jackc/pgpassfile v1.0.0 // indirect
	github.com/jackc/pgservicefile v0.0.0-20240606120523-5a60cdf6a761 // indirect
	github.com/jackc/puddle/v2 v2.2.2 // indirect
	github.com/mattn/go-isatty v0.0.24 // indirect
	github.com/ncruces/go-strftime v1.0.0 // indirect
	github.com/remyoudompheng/bigfft v0.0.0-20230129092748-24d4a6f8daec // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/sync v0.22.0 // indirect
	golang.org/x/sys v0.47.0 // indirect
	golang.org/x/text v0.34.0 // indirect
	golang.org/x/time v0.14.0 // indirect
	modernc.org/libc v1.75.7 // indirect
	modernc.org/mathutil v1.7.1 // indirect
	modernc.org/memory v1.12.1 // indirect
	modernc.org/sqlite v1.59.0 // indirect
)

// examples is not released: it builds against the working tree.
replace (
	github.com/scimkit/scimkit => ../../
	github.com/scimkit/scimkit/storage/postgres => ../../storage/postgres
	github.com/scimkit/scimkit/storage/sqlite => ../../storage/sqlite
)
