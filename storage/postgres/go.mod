module github.com/scimkit/scimkit/storage/postgres

go 1.24.0

require (
	github.com/jackc/pgx/v5 v5.8.0
	github.com/scimkit/scimkit v0.1.0
	github.com/stretchr/testify v1.12.1
)

require (
	github.com/di-wu/parser v0.2.2 // indirect
	github.com/di-wu/xsd-datetime v1.0.0 // indirect
	github.com/elimity-com/scim v0.0.0-20240320110924-172bf2aee9c8 // indirect
	github.com/jackc/pgpassfile v1.0.0 // indirect
	github.com/jackc/pgservicefile v0.0.0-20240606120523-5a60cdf6a761 // indirect
	github.com/jackc/puddle/v2 v2.2.2 // indirect
	github.com/scim2/filter-parser/v2 v2.2.0 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/sync v0.17.0 // indirect
	golang.org/x/text v0.29.0 // indirect
)
