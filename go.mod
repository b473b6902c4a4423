module github.com/scimkit/scimkit

go 1.24.0

require (
	github.com/elimity-com/scim v0.0.0-20240320110924-172bf2aee9c8
	github.com/scim2/filter-parser/v2 v2.2.0
	github.com/stretchr/testify v1.12.1
	golang.org/x/text v0.34.0
	golang.org/x/time v0.14.0
)

require (
	github.com/di-wu/parser v0.2.2 // indirect
	github.com/di-wu/xsd-datetime v1.0.0 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
)
