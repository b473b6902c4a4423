package schema

// NoteKind names one way normalisation changed a request to accept it
// rather than refuse it.
type NoteKind string

// The kinds of notes.
const (
	// NoteDropped: an attribute or sub-attribute that no registered schema
	// defines was dropped (or a PATCH operation on one did nothing).
	NoteDropped NoteKind = "droppedAttribute"
	// NotePrimary: one request value marked more than one element of a
	// multi-valued attribute primary (RFC 7643 §2.4); all but the first
	// were stored with primary false.
	NotePrimary NoteKind = "clearedPrimary"
)

// Note is one normalisation: its kind and the attribute it concerns, as
// the client spelled it ("roles.displayName").
type Note struct {
	Kind NoteKind
	Attr string
}

// MaxNotes bounds the notes one request keeps; further ones are counted
// in [Report.Omitted].
const MaxNotes = 64

// Report collects, for one request, what normalisation did that the
// stored document does not show: the notes, and the password, which is
// writeOnly and never stored (RFC 7643 §4.1.1). A nil *Report records
// nothing.
type Report struct {
	Notes   []Note
	Omitted int // notes beyond MaxNotes
	// Password is the last non-empty password the request set;
	// HasPassword says whether there is one.
	Password    string
	HasPassword bool
}

// Reset empties r for another attempt at the same request.
func (r *Report) Reset() {
	if r != nil {
		*r = Report{Notes: r.Notes[:0]}
	}
}

func (r *Report) note(kind NoteKind, attr string) {
	if r == nil {
		return
	}
	if len(r.Notes) >= MaxNotes {
		r.Omitted++
		return
	}
	r.Notes = append(r.Notes, Note{Kind: kind, Attr: attr})
}

func (r *Report) password(p string) {
	if r != nil {
		r.Password, r.HasPassword = p, true
	}
}
