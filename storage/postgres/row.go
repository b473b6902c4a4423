package postgres

import (
	"fmt"

	"github.com/scimkit/scimkit/storage"
	"github.com/scimkit/scimkit/storage/sqlstore"
)

// row is a resource's stored form, as package sqlstore writes it
// ([sqlstore.ColumnsOf]: the same columns, the same encodings), so the
// pgx paths and the shared store read and write each other's rows.
type row struct {
	name, nameFold, externalID string
	// emails is the JSON array of the emails ("" for none), emailFolds
	// that of their distinct lower-cased forms, which the trigger copies
	// to scimkit_emails.
	emails, emailFolds string
	data, fold         string
	// seat is 1 for a User holding a seat, else 0.
	seat int16
}

func toRow(r *storage.Resource) (row, error) {
	c, err := sqlstore.ColumnsOf(r)
	if err != nil {
		return row{}, fmt.Errorf("postgres: %w", err)
	}
	return row{name: c.Name, nameFold: c.NameFold, externalID: c.ExternalID, emails: c.Emails,
		emailFolds: c.EmailFolds, data: string(c.Data), fold: string(c.Fold), seat: int16(c.Seat)}, nil
}
