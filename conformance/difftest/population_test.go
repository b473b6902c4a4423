package difftest

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/stretchr/testify/require"
)

const (
	userURN       = "urn:ietf:params:scim:schemas:core:2.0:User"
	groupURN      = "urn:ietf:params:scim:schemas:core:2.0:Group"
	enterpriseURN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
)

// population is what one tenant holds, as the server returned it (GET of
// each resource after all were created).
type population struct {
	Users, Groups []map[string]any
}

// popGen generates a tenant's users and groups from a seeded source and
// creates them through the HTTP API.
type popGen struct {
	r     *rand.Rand
	c     *client
	names map[string]bool // userNames taken, lower-cased
	users []string        // userNames created (as sent)
	uids  []string        // ids of users created
	gids  []string        // ids of groups created
	// created is the clock's time at each create, by id: meta.created
	// must read back as it (to the microsecond, WithClock's promise).
	created map[string]time.Time
}

// userNameBases are the stems of userNames: non-ASCII, quotes, backslashes
// (Windows domain accounts), punctuation.
func userNameBases() []string {
	return []string{
		"alice", "Bob", "bravo-x", "Émile", "zoë", "björn", "Ørsted", "josé", "ñandú", "日本太郎",
		"Ωmega", "o'brien", `quote"man`, `CORP\tom`, `CORP\zoe`, "ann.marie", "li wei", "x_y%z",
		"ADELE.VANCE", "grady", "Müller", "çağla", "back\\\\slash", "tab", "percent%20",
	}
}

func domains() []string {
	return []string{"", "", "@contoso.com", "@Contoso.COM", "@exämple.org", "@corp.example"}
}

// oddStrings are values with escapes: quotes, backslashes, control
// characters, non-ASCII.
func oddStrings() []string {
	return []string{
		`Sr. "Lead" Engineer`, `R&D \ Ops`, "Ingénieur", "manager\tlevel 2", "line1\nline2", "cr\rhere",
		"bell\bform\ffeed", `C:\Users\tom`, "slash/and\\back", "naïve café", "Ünïcödé", "emoji 🙂 smile",
		"Engineer", "engineer", "ENGINEER", "Sales", "sales", "R&D", "", "Vice President",
	}
}

// mangleCase changes the case of some letters.
func (g *popGen) mangleCase(s string) string {
	rs := []rune(s)
	switch g.r.IntN(4) {
	case 0:
		return strings.ToUpper(s)
	case 1:
		return strings.ToLower(s)
	}
	for i, c := range rs {
		if g.r.IntN(2) == 0 {
			if unicode.IsUpper(c) {
				rs[i] = unicode.ToLower(c)
			} else {
				rs[i] = unicode.ToUpper(c)
			}
		}
	}
	return string(rs)
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// creationTime spreads meta.created over the range RFC 3339 allows, with
// most in the usual years.
func (g *popGen) creationTime() time.Time {
	var lo, hi int64
	switch n := g.r.IntN(20); {
	case n == 0:
		lo, hi = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC).Unix(), time.Date(100, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	case n == 1:
		lo, hi = time.Date(9900, 1, 1, 0, 0, 0, 0, time.UTC).Unix(), time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC).Unix()
	case n < 4:
		lo, hi = time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC).Unix(), time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	case n < 6:
		lo, hi = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC).Unix(), time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	default:
		lo, hi = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC).Unix(), time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	}
	t := time.Unix(lo+g.r.Int64N(hi-lo), 0).UTC()
	if g.r.IntN(2) == 0 {
		t = t.Add(time.Duration(g.r.IntN(1_000_000)) * time.Microsecond)
	}
	return t
}

// newUser returns a User body; reuse, when not empty, offers userNames of
// another tenant to take.
func (g *popGen) newUser(reuse []string) map[string]any {
	u := map[string]any{"schemas": []any{userURN}}
	var name string
	for name == "" || g.names[strings.ToLower(name)] {
		if len(reuse) > 0 && g.r.IntN(2) == 0 {
			name = pick(g.r, reuse)
		} else {
			name = pick(g.r, userNameBases())
			if g.r.IntN(2) == 0 {
				name = g.mangleCase(name)
			}
			name += pick(g.r, domains())
			if g.r.IntN(3) == 0 {
				name += fmt.Sprint(g.r.IntN(100))
			}
		}
	}
	g.names[strings.ToLower(name)] = true
	u["userName"] = name
	local := strings.ToLower(strings.Map(func(r rune) rune {
		if r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '.') {
			return r
		}
		return -1
	}, name))
	if local == "" {
		local = "u"
	}
	given, family := pick(g.r, []string{"Adele", "Émile", "Zoë", "tom", "Li", `Jo"e`, "Ann\\Marie"}), pick(g.r, []string{"Vance", "Müller", "o'brien", "Smith", "SMITH", "Ørsted"})
	if g.r.IntN(5) > 0 {
		n := map[string]any{}
		if g.r.IntN(7) > 0 {
			n["givenName"] = given
		}
		if g.r.IntN(7) > 0 {
			n["familyName"] = family
		}
		if g.r.IntN(2) == 0 {
			n["formatted"] = given + " " + family
		}
		u["name"] = n
	}
	switch d := g.r.IntN(10); {
	case d < 3:
	case d < 6 && len(g.users) > 0:
		u["displayName"] = g.mangleCase(pick(g.r, g.users)) // another user's userName
	case d < 8:
		u["displayName"] = given + " " + family
	default:
		u["displayName"] = pick(g.r, oddStrings())
	}
	if g.r.IntN(5) < 3 {
		u["title"] = pick(g.r, oddStrings())
	}
	if g.r.IntN(3) == 0 {
		u["nickName"] = g.mangleCase(local)
	}
	switch a := g.r.IntN(20); {
	case a < 3:
	case a < 5:
		u["active"] = pick(g.r, []string{"True", "False"}) // Entra's default job
	case a < 14:
		u["active"] = true
	default:
		u["active"] = false
	}
	if g.r.IntN(2) == 0 {
		u["externalId"] = pick(g.r, []string{"ext-", "EXT-", "Ext-"}) + fmt.Sprint(g.r.IntN(12))
	}
	if n := g.r.IntN(4); n > 0 {
		var emails []any
		primary := g.r.IntN(n + 1) // n: none primary
		for i := range n {
			e := map[string]any{"value": local + fmt.Sprint(i) + pick(g.r, []string{"@contoso.com", "@Example.org", "@exämple.org"})}
			if g.r.IntN(2) == 0 {
				e["value"] = g.mangleCase(e["value"].(string))
			}
			if t := pick(g.r, []string{"work", "home", "other", "Work", ""}); t != "" {
				e["type"] = t
			}
			if i == primary {
				e["primary"] = true
			} else if g.r.IntN(2) == 0 {
				e["primary"] = false
			}
			if g.r.IntN(6) == 0 {
				e["display"] = pick(g.r, oddStrings())
			}
			emails = append(emails, e)
		}
		u["emails"] = emails
	}
	if g.r.IntN(3) == 0 {
		var phones []any
		for i := range 1 + g.r.IntN(2) {
			phones = append(phones, map[string]any{
				"value": fmt.Sprintf("+1 555 01%02d", g.r.IntN(100)),
				"type":  pick(g.r, []string{"work", "mobile", "Mobile"}), "primary": i == 0,
			})
		}
		u["phoneNumbers"] = phones
	}
	if g.r.IntN(6) == 0 {
		u["roles"] = []any{map[string]any{"value": pick(g.r, []string{"Admin", "admin", "Reader"}), "type": "WindowsAzureActiveDirectoryRole", "primary": false}}
	}
	if g.r.IntN(12) == 0 {
		u["x509Certificates"] = []any{map[string]any{"value": pick(g.r, []string{"MIIDQTCCAimgAwIBAgITBmyf", "bWlpYmFzZTY0"})}}
	}
	if g.r.IntN(10) < 7 {
		ent := map[string]any{}
		if g.r.IntN(4) > 0 {
			ent["department"] = pick(g.r, []string{"Sales", "sales", "R&D", `R&D \ Ops`, "Ventes – Été", "Engineering"})
		}
		if g.r.IntN(2) == 0 {
			ent["employeeNumber"] = pick(g.r, []string{"00123", "123", "9", "1000", "0042"})
		}
		if g.r.IntN(3) == 0 {
			ent["costCenter"] = pick(g.r, []string{"CC-1", "cc-1", "CC-2"})
		}
		if len(g.uids) > 0 && g.r.IntN(2) == 0 {
			m := pick(g.r, g.uids)
			if g.r.IntN(3) == 0 {
				m = strings.ToUpper(m)
			}
			ent["manager"] = map[string]any{"value": m}
		}
		u[enterpriseURN] = ent
	}
	if g.r.IntN(10) < 6 {
		ext := map[string]any{}
		if g.r.IntN(3) > 0 {
			ext["badge"] = g.r.IntN(4000) - 1000
		}
		if g.r.IntN(2) == 0 {
			ext["level"] = pick(g.r, []float64{0.1, 1.5, 2.25, 10, -3.75, 1e6})
		}
		if g.r.IntN(2) == 0 {
			ext["vip"] = g.r.IntN(2) == 0
		}
		if g.r.IntN(2) == 0 {
			ext["hired"] = formatTime(g.r, g.creationTime())
		}
		if g.r.IntN(2) == 0 {
			ext["code"] = pick(g.r, []string{"AbC-1", "abc-1", "ABC-1", "xYz"})
		}
		if g.r.IntN(3) == 0 {
			ext["nick"] = pick(g.r, oddStrings())
		}
		u[customURN] = ext
	}
	return u
}

func (g *popGen) newGroup(reuse []string) map[string]any {
	gr := map[string]any{"schemas": []any{groupURN}}
	switch d := g.r.IntN(5); {
	case d < 2 && len(g.users) > 0:
		gr["displayName"] = g.mangleCase(pick(g.r, g.users)) // a user's userName
	case d < 3 && len(reuse) > 0:
		gr["displayName"] = pick(g.r, reuse)
	default:
		gr["displayName"] = pick(g.r, []string{"Admins", "Sales", "Ünïcödé team", `Ops "core"`, `DOM\Backup Operators`}) + fmt.Sprint(g.r.IntN(50))
	}
	if g.r.IntN(5) < 2 {
		gr["externalId"] = pick(g.r, []string{"grp-", "GRP-"}) + fmt.Sprint(g.r.IntN(6))
	}
	var members []any
	for range g.r.IntN(7) {
		if len(g.uids) == 0 {
			break
		}
		members = append(members, map[string]any{"value": pick(g.r, g.uids)})
	}
	if len(g.gids) > 0 && g.r.IntN(3) == 0 {
		members = append(members, map[string]any{"value": pick(g.r, g.gids), "type": "Group"})
	}
	if len(members) > 0 {
		gr["members"] = dedupMembers(members)
	}
	return gr
}

func dedupMembers(ms []any) []any {
	seen := map[string]bool{}
	var out []any
	for _, m := range ms {
		v := m.(map[string]any)["value"].(string)
		if !seen[v] {
			seen[v] = true
			out = append(out, m)
		}
	}
	return out
}

// formatTime writes an instant as an xsd:dateTime, in UTC or with an offset,
// with or without fractional seconds.
func formatTime(r *rand.Rand, t time.Time) string {
	if t.Year() > 1 && t.Year() < 9999 && r.IntN(3) == 0 {
		t = t.In(time.FixedZone("", pick(r, []int{3600, -8 * 3600, 5*3600 + 1800, -30 * 60})))
	}
	switch r.IntN(3) {
	case 0:
		return t.Format(time.RFC3339Nano)
	case 1:
		return t.Format("2006-01-02T15:04:05.000000Z07:00")
	}
	return t.Format("2006-01-02T15:04:05.000000000Z07:00")
}

// create makes nUsers users and nGroups groups in tenant through the API
// and returns them as the server then serves them.
func (g *popGen) create(tenant string, nUsers, nGroups int, reuseUsers, reuseGroups []string) population {
	t := g.c.t
	var failed []string
	for range nUsers {
		u := g.newUser(reuseUsers)
		at := g.creationTime()
		g.c.clock.set(at)
		status, body := g.c.do(tenant, http.MethodPost, "/Users", u)
		if status != http.StatusCreated {
			failed = append(failed, fmt.Sprintf("POST /Users %d %s", status, body))
			continue
		}
		var doc map[string]any
		require.NoError(t, json.Unmarshal(body, &doc))
		g.uids = append(g.uids, doc["id"].(string))
		g.created[doc["id"].(string)] = at
		g.users = append(g.users, u["userName"].(string))
	}
	for range nGroups {
		gr := g.newGroup(reuseGroups)
		at := g.creationTime()
		g.c.clock.set(at)
		status, body := g.c.do(tenant, http.MethodPost, "/Groups", gr)
		if status != http.StatusCreated {
			failed = append(failed, fmt.Sprintf("POST /Groups %d %s", status, body))
			continue
		}
		var doc map[string]any
		require.NoError(t, json.Unmarshal(body, &doc))
		g.gids = append(g.gids, doc["id"].(string))
		g.created[doc["id"].(string)] = at
	}
	// A generated resource the server refused is a finding, but only a
	// few may fail (for example a displayName taken twice) before the
	// population is too thin to test filters.
	require.LessOrEqual(t, len(failed), (nUsers+nGroups)/10, "creates refused:\n%s", strings.Join(failed, "\n"))
	for _, f := range failed {
		t.Logf("create refused (not counted as a failure): %s", f)
	}
	var p population
	for _, id := range g.uids {
		p.Users = append(p.Users, g.c.get(tenant, "/Users/"+id))
	}
	for _, id := range g.gids {
		p.Groups = append(p.Groups, g.c.get(tenant, "/Groups/"+id))
	}
	return p
}

// wrongCreated lists the resources whose meta.created does not read back
// as the instant the server's clock gave when they were created.
func (g *popGen) wrongCreated(p population) []string {
	var out []string
	for _, d := range append(slices.Clone(p.Users), p.Groups...) {
		want := g.created[d["id"].(string)].Truncate(time.Microsecond)
		s, _ := lookup(d["meta"], "created").(string)
		if got, err := parseTime(s); err != nil || !got.Equal(want) {
			out = append(out, fmt.Sprintf("%s read back as %s", want.Format(time.RFC3339Nano), s))
		}
	}
	return out
}

// get reads one resource.
func (c *client) get(tenant, target string) map[string]any {
	c.t.Helper()
	status, body := c.do(tenant, http.MethodGet, target, nil)
	require.Equal(c.t, http.StatusOK, status, "GET %s: %s", target, body)
	var doc map[string]any
	require.NoError(c.t, json.Unmarshal(body, &doc))
	return doc
}
