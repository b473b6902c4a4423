package postgres

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/scimkit/scimkit/storage"
)

// row is a resource's stored form, as package sqlstore writes it (the
// same columns, the same encodings), so the pgx paths and the shared
// store read and write each other's rows.
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
	w := row{name: r.Name, nameFold: strings.ToLower(r.Name), externalID: r.ExternalID, data: string(r.Data), emailFolds: "[]"}
	if r.Seat && r.Kind == storage.KindUser {
		w.seat = 1
	}
	if len(r.Emails) > 0 {
		b, err := json.Marshal(r.Emails)
		if err != nil {
			return row{}, err
		}
		w.emails = string(b)
		seen := make(map[string]bool, len(r.Emails))
		folds := make([]string, 0, len(r.Emails))
		for _, e := range r.Emails {
			if f := strings.ToLower(e); !seen[f] {
				seen[f] = true
				folds = append(folds, f)
			}
		}
		if b, err = json.Marshal(folds); err != nil {
			return row{}, err
		}
		w.emailFolds = string(b)
	}
	fold, err := foldDocument(r.Data)
	if err != nil {
		return row{}, fmt.Errorf("postgres: %s %q: document: %w", r.Kind, r.ID, err)
	}
	w.fold = string(fold)
	return w, nil
}

// foldDocument returns doc with every string value (not key) lower-cased
// as strings.ToLower does, the form case-insensitive filters query.
func foldDocument(doc []byte) ([]byte, error) {
	if len(doc) == 0 {
		return []byte("{}"), nil
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(foldValue(v)); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func foldValue(v any) any {
	switch v := v.(type) {
	case string:
		return strings.ToLower(v)
	case []any:
		for i := range v {
			v[i] = foldValue(v[i])
		}
	case map[string]any:
		for k, x := range v {
			v[k] = foldValue(x)
		}
	}
	return v
}
