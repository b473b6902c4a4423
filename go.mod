module github.com/scimkit/scimkit

go 1.24
