package sqlstore

import "github.com/scimkit/scimkit/storage"

// Columns is a resource's stored form in scimkit_resources, exactly as
// [Store] writes it, for a store that writes rows on paths of its own
// (storage/postgres's pgx statements) and must stay readable by Store's
// queries and filters.
type Columns struct {
	// Name is userName or displayName; NameFold its lower-cased form,
	// which the case-insensitive unique index holds.
	Name, NameFold string
	// ExternalID is the resource's externalId ("" for none).
	ExternalID string
	// Emails is the JSON array of the emails ("" for none); EmailFolds
	// the JSON array of their distinct lower-cased forms ("[]" for
	// none), which a trigger copies to scimkit_emails.
	Emails, EmailFolds string
	// Data is the SCIM document; Fold the same document with every
	// string value (not key) lower-cased as strings.ToLower does, the
	// form case-insensitive filters read.
	Data, Fold []byte
	// Seat is 1 for a User holding a seat, else 0.
	Seat int
}

// ColumnsOf returns r's stored form. The error is r's document failing
// to decode as JSON.
func ColumnsOf(r *storage.Resource) (Columns, error) {
	w, err := toRow(r)
	if err != nil {
		return Columns{}, err
	}
	return Columns{Name: w.name, NameFold: w.nameFold, ExternalID: w.externalID, Emails: w.emails,
		EmailFolds: w.emailFolds, Data: w.data, Fold: w.fold, Seat: w.seat}, nil
}
