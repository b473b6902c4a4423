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
	// NoteStringBoolean: a boolean sent as the string "True" or "False"
	// (Entra's default job) was accepted as a boolean.
	NoteStringBoolean NoteKind = "stringBoolean"
	// NoteNumericString: a number sent as a string ("3") was accepted for
	// an integer or decimal attribute.
	NoteNumericString NoteKind = "numericString"
	// NoteDottedKey: a body or path-less PATCH value key named a
	// sub-attribute with a dot ("name.givenName", Entra's
	// aadOptscim062020 job).
	NoteDottedKey NoteKind = "dottedKey"
	// NoteFlatExtension: a body or path-less PATCH value key named an
	// extension attribute by its full URN ("urn:...:User:employeeNumber")
	// instead of nesting it under the extension's object.
	NoteFlatExtension NoteKind = "flatExtensionKey"
	// NoteBareValue: a complex attribute with a "value" sub-attribute was
	// sent as a bare string (Entra's manager) and stored as {"value": s}.
	NoteBareValue NoteKind = "bareStringValue"
	// NoteRemoveMembersValue: a remove of "members" carried a value list
	// (Entra's default job) instead of a members[value eq ...] path.
	NoteRemoveMembersValue NoteKind = "removeMembersWithValue"
	// NoteValuePathFilter: a list filter used Entra's non-RFC form
	// emails[type eq "work"].value eq "x".
	NoteValuePathFilter NoteKind = "valuePathFilter"
	// NoteCapitalisedOp: a PATCH op name not in lower case ("Replace").
	NoteCapitalisedOp NoteKind = "capitalisedOp"
)

// Shape is a bit set of request shapes that tell IdP clients apart
// without being normalisations.
type Shape uint8

// The shapes recorded.
const (
	// ShapePathlessActive: a path-less PATCH value set "active" (Okta
	// OIN's deactivate and reactivate).
	ShapePathlessActive Shape = 1 << iota
	// ShapePathlessID: a path-less PATCH value carried "id" (Okta OIN's
	// group rename).
	ShapePathlessID
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
	Shapes  Shape
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

// Add records a note of kind on attr (as the client spelled it).
func (r *Report) Add(kind NoteKind, attr string) { r.note(kind, attr) }

func (r *Report) shape(sh Shape) {
	if r != nil {
		r.Shapes |= sh
	}
}

func (r *Report) password(p string) {
	if r != nil {
		r.Password, r.HasPassword = p, true
	}
}
