package schema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/scimkit/scimkit/internal/jsonscan"
	"github.com/scimkit/scimkit/storage"
)

// PatchOp is one operation of a PATCH request (RFC 7644 §3.5.2).
type PatchOp struct {
	Op    string          `json:"op"`
	Path  string          `json:"path"`
	Value json.RawMessage `json:"value"`
}

// MemberOps collects the member operations of a Group PATCH as a delta.
type MemberOps struct {
	Change storage.MemberChange
	Any    bool
}

func (m *MemberOps) replaceAll(ms []storage.Member) {
	m.Any = true
	m.Change.ReplaceAll = true
	m.Change.Remove = nil
	m.Change.Add = ms
}

// add records members to add; an earlier remove of the same id is
// undone. The work is linear in the delta's size (a set, not a scan per
// id).
func (m *MemberOps) add(ms []storage.Member) {
	m.Any = true
	if len(m.Change.Remove) > 0 {
		ids := make(map[string]struct{}, len(ms))
		for _, x := range ms {
			ids[x.Value] = struct{}{}
		}
		m.Change.Remove = slices.DeleteFunc(m.Change.Remove, func(id string) bool {
			_, ok := ids[id]
			return ok
		})
	}
	m.Change.Add = append(m.Change.Add, ms...)
}

// remove records member ids to remove; an earlier add of the same id is
// undone, in linear time as add.
func (m *MemberOps) remove(ids []string) {
	m.Any = true
	if len(m.Change.Add) > 0 {
		set := make(map[string]struct{}, len(ids))
		for _, id := range ids {
			set[id] = struct{}{}
		}
		m.Change.Add = slices.DeleteFunc(m.Change.Add, func(x storage.Member) bool {
			_, ok := set[x.Value]
			return ok
		})
	}
	m.Change.Remove = append(m.Change.Remove, ids...)
}

// MaxOperations bounds the operations of one PATCH request.
const MaxOperations = 1000

// MaxPatchFilterWork bounds the comparisons the filtered paths
// (`emails[type eq "work"]`) of one PATCH request make: each such
// operation costs the elements of its attribute times the comparisons of
// its filter. Entra's and Okta's PATCHes make tens; without the bound, 900
// operations with 50-term filters over 1,000 emails took seconds of CPU.
const MaxPatchFilterWork = 200_000

// MaxPatchCompareBytes bounds the bytes of the canonical forms (JSON) one
// PATCH request computes to compare multi-valued elements (an add skips
// elements already present; a remove by value finds the ones to drop):
// each such operation encodes the attribute's elements, so without the
// bound 1,000 operations each adding one email of 1 KB to the same user
// took seconds of CPU before the result was refused as too large.
const MaxPatchCompareBytes = 4 << 20

// patchWork is what the operations of one PATCH have cost so far.
type patchWork struct {
	comparisons int // of filtered paths, element by element
	bytes       int // of canonical forms
}

// canonicalCounted is canonical, counting the bytes against opt's PATCH
// budget.
func canonicalCounted(v any, opt Options) (string, error) {
	k := canonical(v)
	if opt.work != nil {
		if opt.work.bytes += len(k); opt.work.bytes > MaxPatchCompareBytes {
			return "", errorf("tooMany", "the operations of this PATCH compare more than %d bytes of values; send fewer operations", MaxPatchCompareBytes)
		}
	}
	return k, nil
}

// ApplyPatch applies ops to doc (a normalised document) in order and
// returns the Group member changes they make. It accepts what Entra and
// Okta send: capitalised op names, "True"/"False", path-less add/replace
// with dotted and full-URN keys and extension objects, filtered paths with
// a sub-attribute that create the element when none matches
// (`emails[type eq "work"].value`), remove of members by a value list or by
// `members[value eq "..."]`, and readOnly keys (id, meta) in a path-less
// value, which are ignored. Paths and path-less keys naming attributes no
// schema defines are dropped and noted in opt.Report (a remove of one is a
// no-op; opt.StrictAttributes refuses them), a password is handed to
// opt.Report instead of the document, an element an operation makes
// primary clears the others' primary (RFC 7644 §3.5.2), and two keys of a
// path-less value naming one attribute are refused. On error doc may be
// half-changed: callers apply patches to a copy.
func (rt *ResourceType) ApplyPatch(doc map[string]any, ops []PatchOp, opt Options) (MemberOps, error) {
	var mo MemberOps
	if len(ops) == 0 {
		return mo, errorf("invalidValue", "a PATCH request needs at least one operation")
	}
	if len(ops) > MaxOperations {
		return mo, errorf("tooMany", "more than %d operations", MaxOperations)
	}
	opt.work = &patchWork{}
	for i, op := range ops {
		name := strings.ToLower(op.Op)
		switch name {
		case "add", "replace", "remove":
		default:
			return mo, errorf("invalidSyntax", "operation %d: unknown op %q", i, op.Op)
		}
		if name != op.Op {
			opt.Report.note(NoteCapitalisedOp, op.Op)
		}
		path := strings.TrimSpace(op.Path)
		if rt.Kind == storage.KindGroup && strings.EqualFold(path, "members") && len(op.Value) > 0 {
			// The hot path of group provisioning (batches of member
			// ids): decode straight into members, not into maps.
			ms, err := decodeMembers(op.Value)
			if err != nil {
				return mo, err
			}
			if name == "remove" {
				opt.Report.note(NoteRemoveMembersValue, path)
			}
			if err := memberOp(&mo, name, target{}, ms); err != nil {
				return mo, err
			}
			continue
		}
		var v any
		if len(op.Value) > 0 {
			if err := json.Unmarshal(op.Value, &v); err != nil {
				return mo, errorf("invalidSyntax", "operation %d: value is not valid JSON", i)
			}
		}
		if path == "" {
			if name == "remove" {
				return mo, errorf("noTarget", "operation %d: remove needs a path", i)
			}
			obj, ok := v.(map[string]any)
			if !ok {
				return mo, errorf("invalidValue", "operation %d: a %s without path needs an object value", i, name)
			}
			keys, err := rt.orderKeys(obj)
			if err != nil {
				return mo, err
			}
			for _, k := range keys {
				if err := rt.applyPathless(doc, &mo, name, k, obj[k], opt); err != nil {
					return mo, err
				}
			}
			continue
		}
		if name == "add" && v == nil {
			return mo, errorf("invalidValue", "operation %d: add needs a value", i)
		}
		if err := rt.apply(doc, &mo, name, path, v, opt, false); err != nil {
			return mo, err
		}
	}
	if err := rt.Check(doc); err != nil {
		return mo, err
	}
	return mo, nil
}

func (rt *ResourceType) applyPathless(doc map[string]any, mo *MemberOps, op, key string, v any, opt Options) error {
	ext, rest, ok := rt.SplitURN(key)
	if ok {
		noteFlat(opt, ext, rest, key)
		if ext == nil {
			switch strings.ToLower(rest) {
			case "active":
				opt.Report.shape(ShapePathlessActive)
			case "id":
				opt.Report.shape(ShapePathlessID)
			}
		}
	}
	if ok && ext != nil && rest == "" {
		obj, isObj := v.(map[string]any)
		if !isObj {
			if v == nil {
				return nil
			}
			return errorf("invalidValue", "%q must be an object", key)
		}
		keys := foldSorted(obj)
		for i, k := range keys {
			if i > 0 && strings.EqualFold(keys[i-1], k) {
				if err := rt.dupKeys(ext.URN+":"+keys[i-1], ext.URN+":"+k); err != nil {
					return err
				}
			}
			if err := rt.apply(doc, mo, op, ext.URN+":"+k, obj[k], opt, true); err != nil {
				return err
			}
		}
		return nil
	}
	return rt.apply(doc, mo, op, key, v, opt, true)
}

// target is a resolved PATCH path.
type target struct {
	ext    *Schema
	attr   *Attr
	filter storage.Filter
	sub    *Attr
	key    string
}

func (rt *ResourceType) parsePath(path string, opt Options) (target, error) {
	t := target{key: path}
	ext, rest, ok := rt.SplitURN(path)
	if !ok {
		return t, unknownPath("unknown schema in path %q", path)
	}
	if rest == "" {
		return t, errorf("invalidPath", "path %q names a schema, not an attribute", path)
	}
	t.ext = ext
	name, filterText, subName := rest, "", ""
	if i := strings.IndexByte(rest, '['); i >= 0 {
		j := strings.LastIndexByte(rest, ']')
		if j < i {
			return t, errorf("invalidPath", "unbalanced brackets in path %q", path)
		}
		name, filterText = rest[:i], rest[i+1:j]
		after := rest[j+1:]
		if after != "" {
			if after[0] != '.' || len(after) == 1 {
				return t, errorf("invalidPath", "invalid path %q", path)
			}
			subName = after[1:]
		}
	} else if n, s, dotted := strings.Cut(rest, "."); dotted {
		name, subName = n, s
	}
	key := name
	if ext != nil {
		key = ext.URN + ":" + name
	}
	_, attr, _, ok := rt.Resolve(key)
	if !ok {
		return t, unknownPath("unknown attribute %q", path)
	}
	t.attr = attr
	if subName != "" {
		if t.sub = attr.SubAttr(subName); t.sub == nil {
			return t, unknownPath("unknown sub-attribute %q", path)
		}
	}
	if filterText != "" {
		if !attr.MultiValued || !attr.IsComplex() {
			return t, errorf("invalidPath", "%q is not a multi-valued complex attribute", name)
		}
		f, err := rt.ParseValueFilter(filterText, ext, attr, opt)
		if err != nil {
			return t, err
		}
		t.filter = f
	}
	return t, nil
}

// unknownPath is the error for a path naming an attribute no schema
// defines; apply drops such operations unless StrictAttributes is set.
func unknownPath(format, path string) *Error {
	e := errorf("invalidPath", format, path)
	e.unknown = true
	return e
}

// withoutFilter returns a path with its value filter cut out, so that a
// note or a log line never carries the values a filter compares with.
func withoutFilter(path string) string {
	i := strings.IndexByte(path, '[')
	if i < 0 {
		return path
	}
	j := strings.LastIndexByte(path, ']')
	if j < i {
		return path[:i]
	}
	return path[:i] + path[j+1:]
}

func (rt *ResourceType) apply(doc map[string]any, mo *MemberOps, op, path string, v any, opt Options, pathless bool) error {
	t, err := rt.parsePath(path, opt)
	if err != nil {
		if e, ok := err.(*Error); ok && e.unknown {
			if pathless {
				// A key of a path-less value: as in a POST body.
				return unknownAttr(opt, "unknown attribute %q", withoutFilter(path))
			}
			if !opt.StrictAttributes {
				// An attribute the product does not know: drop the
				// operation (a remove of it is a no-op anyway) rather
				// than fail the whole request (IdPs retry it forever).
				opt.Report.note(NoteDropped, withoutFilter(path))
				return nil
			}
		}
		return err
	}
	if rt.Kind == storage.KindGroup && t.ext == nil && t.attr.Name == "members" {
		return memberOp(mo, op, t, v)
	}
	if t.ext == nil && t.attr.Name == "password" && t.attr.Returned == "never" && t.sub == nil && t.filter == nil {
		// writeOnly (RFC 7643 §4.1.1): Okta's password push is a replace;
		// the value goes to the host through the report, never into the
		// document. A remove has nothing to remove.
		if op == "remove" {
			return nil
		}
		nv, err := Value(t.attr, v, opt, path)
		if s, ok := nv.(string); ok {
			opt.Report.password(s)
		}
		return err
	}
	if t.attr.Mutability == "readOnly" || t.attr.Returned == "never" || (t.sub != nil && t.sub.Mutability == "readOnly") {
		if pathless {
			return nil // Okta sends id with renames; ignore readOnly keys
		}
		return errorf("mutability", "attribute %q is readOnly", path)
	}
	if t.attr.Mutability == "immutable" && op != "add" {
		return errorf("mutability", "attribute %q is immutable", path)
	}
	container := doc
	if t.ext != nil {
		m, _ := doc[t.ext.URN].(map[string]any)
		if m == nil {
			m = map[string]any{}
		}
		container = m
		defer func() { setOrDelete(doc, t.ext.URN, m) }()
	}
	a := t.attr
	if !hasPrimary(a) || op == "remove" {
		return applyTo(container, op, t, v, opt, path)
	}
	before := primaries(asList(container[a.Name]))
	if err := applyTo(container, op, t, v, opt, path); err != nil {
		return err
	}
	if keepOnePrimary(asList(container[a.Name]), before) > 0 {
		opt.Report.note(NotePrimary, withoutFilter(path))
	}
	return nil
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// applyTo applies one add, replace or remove to the attribute t names in
// container (the document, or an extension's object).
func applyTo(container map[string]any, op string, t target, v any, opt Options, path string) error {
	a := t.attr
	switch {
	case t.filter != nil:
		return applyFiltered(container, op, t, v, opt)
	case t.sub != nil:
		if a.MultiValued {
			return applyAllElements(container, op, t, v, opt)
		}
		obj, _ := container[a.Name].(map[string]any)
		if obj == nil {
			obj = map[string]any{}
		}
		if op == "remove" {
			delete(obj, t.sub.Name)
		} else {
			nv, err := Value(t.sub, v, opt, path)
			if err != nil {
				return err
			}
			setOrDeleteValue(obj, t.sub.Name, nv)
		}
		setOrDelete(container, a.Name, obj)
		return nil
	case op == "remove":
		if a.MultiValued && v != nil {
			return removeValues(container, a, v, path, opt)
		}
		delete(container, a.Name)
		return nil
	}
	nv, err := Value(a, v, opt, path)
	if err != nil {
		return err
	}
	switch {
	case nv == nil:
		if op == "replace" {
			delete(container, a.Name)
		}
	case a.MultiValued && op == "add":
		// Linear: each value is compared with the others through a set
		// of canonical forms, not one by one (an add of N values to M
		// used to cost N·M deep comparisons).
		old, _ := container[a.Name].([]any)
		seen := make(map[string]struct{}, len(old)+len(nv.([]any)))
		for _, x := range old {
			k, err := canonicalCounted(x, opt)
			if err != nil {
				return err
			}
			seen[k] = struct{}{}
		}
		for _, x := range nv.([]any) {
			k, err := canonicalCounted(x, opt)
			if err != nil {
				return err
			}
			if _, dup := seen[k]; !dup {
				seen[k] = struct{}{}
				old = append(old, x)
			}
		}
		container[a.Name] = old
	case a.IsComplex() && !a.MultiValued:
		old, _ := container[a.Name].(map[string]any)
		if old == nil || a.SubAttr("value") != nil && op == "replace" && isValueOnly(nv) {
			container[a.Name] = nv
			return nil
		}
		for k, x := range nv.(map[string]any) {
			old[k] = x
		}
	default:
		container[a.Name] = nv
	}
	return nil
}

func isValueOnly(v any) bool {
	m, ok := v.(map[string]any)
	_, has := m["value"]
	return ok && has
}

func setOrDeleteValue(m map[string]any, k string, v any) {
	if v == nil {
		delete(m, k)
	} else {
		m[k] = v
	}
}

// canonical returns a form of a decoded JSON value that is equal for two
// values exactly when they are deeply equal: its JSON encoding (object keys
// sorted).
func canonical(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%#v", v) // not JSON-encodable: compare by Go syntax
	}
	return string(b)
}

// removeValues removes the elements of a multi-valued attribute equal to
// the given values (compared on "value" for complex ones): Entra's legacy
// `{"op":"Remove","path":"members","value":[{"value":"id"}]}` shape.
func removeValues(container map[string]any, a *Attr, v any, path string, opt Options) error {
	nv, err := Value(a, v, opt, path)
	if err != nil || nv == nil {
		return err
	}
	// Linear, as for add: sets of the canonical forms of the values to
	// remove and of their "value" sub-attributes.
	whole, byValue := map[string]struct{}{}, map[string]struct{}{}
	for _, y := range nv.([]any) {
		whole[canonical(y)] = struct{}{}
		if a.IsComplex() && valueOf(y) != nil {
			byValue[canonical(valueOf(y))] = struct{}{}
		}
	}
	old, _ := container[a.Name].([]any)
	out := old[:0]
	for _, x := range old {
		k, err := canonicalCounted(x, opt)
		if err != nil {
			return err
		}
		_, drop := whole[k]
		if !drop && a.IsComplex() && valueOf(x) != nil {
			_, drop = byValue[canonical(valueOf(x))]
		}
		if !drop {
			out = append(out, x)
		}
	}
	if len(out) == 0 {
		delete(container, a.Name)
	} else {
		container[a.Name] = out
	}
	return nil
}

func valueOf(x any) any {
	m, _ := x.(map[string]any)
	return m["value"]
}

// applyAllElements handles "emails.value"-style paths: the sub-attribute of
// every element.
func applyAllElements(container map[string]any, op string, t target, v any, opt Options) error {
	list, _ := container[t.attr.Name].([]any)
	if op != "remove" && len(list) == 0 {
		return errorf("noTarget", "no values of %q to change", t.attr.Name)
	}
	var nv any
	if op != "remove" {
		var err error
		if nv, err = Value(t.sub, v, opt, t.key); err != nil {
			return err
		}
	}
	for _, el := range list {
		if m, ok := el.(map[string]any); ok {
			setOrDeleteValue(m, t.sub.Name, nv)
		}
	}
	return nil
}

// comparisons returns the comparisons of filter f.
func comparisons(f storage.Filter) int {
	switch f := f.(type) {
	case storage.And:
		return comparisons(f.Left) + comparisons(f.Right)
	case storage.Or:
		return comparisons(f.Left) + comparisons(f.Right)
	case storage.Not:
		return comparisons(f.X)
	case storage.ValuePath:
		return comparisons(f.Filter)
	}
	return 1
}

// applyFiltered handles `attr[filter]` and `attr[filter].sub` paths.
func applyFiltered(container map[string]any, op string, t target, v any, opt Options) error {
	a := t.attr
	list, _ := container[a.Name].([]any)
	if opt.work != nil && len(list) > 0 {
		opt.work.comparisons += len(list) * comparisons(t.filter)
		if opt.work.comparisons > MaxPatchFilterWork {
			return errorf("tooMany", "the filtered paths of this PATCH compare more than %d values; send fewer operations or shorter filters", MaxPatchFilterWork)
		}
	}
	matched := 0
	out := list[:0:0]
	for _, el := range list {
		m, ok := el.(map[string]any)
		if !ok || !storage.Match(storage.ValuePath{Path: storage.AttrPath{Name: "x"}, Filter: t.filter}, &storage.Resource{}, map[string]any{"x": []any{m}}) {
			out = append(out, el)
			continue
		}
		matched++
		switch {
		case op == "remove" && t.sub == nil:
			continue // drop the element
		case op == "remove":
			delete(m, t.sub.Name)
		case t.sub != nil:
			nv, err := Value(t.sub, v, opt, t.key)
			if err != nil {
				return err
			}
			setOrDeleteValue(m, t.sub.Name, nv)
		default:
			nv, err := coerce(a, v, opt, t.key)
			if err != nil {
				return err
			}
			if nm, ok := nv.(map[string]any); ok {
				for k, x := range nm {
					m[k] = x
				}
			}
		}
		out = append(out, m)
	}
	if matched == 0 {
		if op == "remove" {
			return nil // nothing to remove: idempotent
		}
		// Entra: `emails[type eq "work"].value` creates the element when
		// absent; so does add/replace of a whole element.
		el := equalities(t.filter)
		if el == nil {
			return errorf("noTarget", "no value of %q matches the filter", a.Name)
		}
		if t.sub != nil {
			nv, err := Value(t.sub, v, opt, t.key)
			if err != nil {
				return err
			}
			if nv == nil {
				return nil
			}
			el[t.sub.Name] = nv
		} else {
			nv, err := coerce(a, v, opt, t.key)
			if err != nil {
				return err
			}
			if nm, ok := nv.(map[string]any); ok {
				for k, x := range nm {
					el[k] = x
				}
			}
		}
		out = append(out, el)
	}
	if len(out) == 0 {
		delete(container, a.Name)
	} else {
		container[a.Name] = out
	}
	return nil
}

// equalities turns a conjunction of eq comparisons into an element, or nil.
func equalities(f storage.Filter) map[string]any {
	el := map[string]any{}
	var walk func(storage.Filter) bool
	walk = func(f storage.Filter) bool {
		switch f := f.(type) {
		case storage.And:
			return walk(f.Left) && walk(f.Right)
		case storage.Compare:
			if f.Op != storage.OpEq || f.Value == nil {
				return false
			}
			el[f.Path.Sub] = f.Value
			return true
		}
		return false
	}
	if !walk(f) {
		return nil
	}
	return el
}

// memberOp turns an operation on a Group's members into a delta.
func memberOp(mo *MemberOps, op string, t target, v any) error {
	if t.sub != nil {
		return errorf("invalidPath", "members sub-attributes cannot be changed")
	}
	if t.filter != nil {
		if op != "remove" {
			return errorf("invalidPath", "only remove takes a filtered members path")
		}
		ids, ok := memberIDs(t.filter)
		if !ok {
			return errorf("invalidFilter", `members filter must be value eq "id" (or an "or" of them)`)
		}
		mo.remove(ids)
		return nil
	}
	ms, ok := v.([]storage.Member)
	if !ok {
		var err error
		if ms, err = members(v); err != nil {
			return err
		}
	}
	switch op {
	case "add":
		mo.add(ms)
	case "replace":
		mo.replaceAll(ms)
	case "remove":
		if v == nil {
			mo.replaceAll(nil)
			return nil
		}
		ids := make([]string, len(ms))
		for i, m := range ms {
			ids[i] = m.Value
		}
		mo.remove(ids)
	}
	return nil
}

func memberIDs(f storage.Filter) ([]string, bool) {
	switch f := f.(type) {
	case storage.Or:
		l, ok1 := memberIDs(f.Left)
		r, ok2 := memberIDs(f.Right)
		return append(l, r...), ok1 && ok2
	case storage.Compare:
		s, ok := f.Value.(string)
		if f.Op == storage.OpEq && f.Path.Sub == "value" && ok {
			return []string{s}, true
		}
	}
	return nil, false
}

// Members reads a members value: a list (or one) of {"value","display"}
// objects; Entra's "$ref": null is accepted.
func Members(v any) ([]storage.Member, error) { return members(v) }

func members(v any) ([]storage.Member, error) {
	if v == nil {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		list = []any{v}
	}
	out := make([]storage.Member, 0, len(list))
	for _, x := range list {
		m, ok := x.(map[string]any)
		if !ok {
			return nil, errorf("invalidValue", "each member must be an object with a value")
		}
		id, ok := m["value"].(string)
		if !ok || id == "" {
			return nil, errorf("invalidValue", "each member needs a string value (the member's id)")
		}
		var display string
		if d, ok := m["display"]; ok && d != nil {
			if display, ok = d.(string); !ok {
				return nil, errorf("invalidValue", "member display must be a string")
			}
		}
		out = append(out, storage.Member{Value: id, Display: display})
	}
	return out, nil
}

// memberJSON is one element of a members value.
type memberJSON struct {
	Value   string `json:"value"`
	Display string `json:"display"`
}

// scanMembers reads a list of member objects whose keys are "value" and
// "display" only, with plain string values, as json.Unmarshal into
// []memberJSON does; ok is false for anything else (the caller decodes
// it with encoding/json, which decides).
func scanMembers(raw []byte) (list []memberJSON, ok bool) {
	if len(raw) == 0 || raw[0] != '[' || jsonscan.Value(raw, 0) != len(raw) {
		return nil, false
	}
	str := func(i int) ([]byte, int, bool) { // a string without escapes at raw[i]
		end := jsonscan.String(raw, i)
		if end < 0 {
			return nil, 0, false
		}
		v := raw[i+1 : end-1]
		if bytes.IndexByte(v, '\\') >= 0 || !utf8.Valid(v) {
			return nil, 0, false
		}
		return v, end, true
	}
	list = make([]memberJSON, 0, bytes.Count(raw, []byte{'{'}))
	i := jsonscan.SkipSpace(raw, 1)
	if raw[i] == ']' {
		return list, true
	}
	for {
		if raw[i] != '{' {
			return nil, false
		}
		var m memberJSON
		i = jsonscan.SkipSpace(raw, i+1)
		for raw[i] != '}' {
			k, end, ok := str(i)
			if !ok {
				return nil, false
			}
			i = jsonscan.SkipSpace(raw, jsonscan.SkipSpace(raw, end)+1) // past ':'
			if raw[i] != '"' {
				return nil, false
			}
			v, end, ok := str(i)
			if !ok {
				return nil, false
			}
			switch string(k) {
			case "value":
				m.Value = string(v)
			case "display":
				m.Display = string(v)
			default:
				return nil, false
			}
			if i = jsonscan.SkipSpace(raw, end); raw[i] == ',' {
				i = jsonscan.SkipSpace(raw, i+1)
			}
		}
		list = append(list, m)
		if i = jsonscan.SkipSpace(raw, i+1); raw[i] == ']' {
			return list, true
		}
		i = jsonscan.SkipSpace(raw, i+1) // past ','
	}
}

// decodeMembers decodes a members value (a list of, or one, member
// object) without building generic maps. It accepts what members does.
func decodeMembers(raw json.RawMessage) ([]storage.Member, error) {
	raw = bytes.TrimSpace(raw)
	if string(raw) == "null" {
		return nil, nil
	}
	list, ok := scanMembers(raw)
	var err error
	if ok {
		// read by the scanner
	} else if len(raw) > 0 && raw[0] == '{' {
		list = make([]memberJSON, 1)
		err = json.Unmarshal(raw, &list[0])
	} else {
		err = json.Unmarshal(raw, &list)
	}
	if err != nil {
		return nil, errorf("invalidValue", "members must be a list of objects with a string value (the member's id)")
	}
	out := make([]storage.Member, len(list))
	for i, m := range list {
		if m.Value == "" {
			return nil, errorf("invalidValue", "each member needs a string value (the member's id)")
		}
		out[i] = storage.Member{Value: m.Value, Display: m.Display}
	}
	return out, nil
}
