package scimtest

import (
	"fmt"
	"net/http"
	"strings"
)

const enterpriseURN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

// RunEntra replays Microsoft Entra ID's provisioning of users and groups
// against tg, once as the default "scim" job sends it (capitalised ops,
// "False" as a string, member removal with a value list) and once with
// the aadOptscim062020 flag (RFC shapes, path-less replace with flattened
// keys, members[value eq "…"]). Each job: Test Connection, /Schemas,
// lookup-before-create, create with the enterprise extension (and with a
// custom extension /Schemas lists), a duplicate, lookups by externalId and
// work e-mail, every PATCH shape, manager set and removed, deactivate and
// reactivate, userName change, paging as Microsoft's validator does, group
// push, member add and remove, rename, and deletes.
func RunEntra(t TB, tg Target) {
	t.Helper()
	for _, job := range []struct {
		name string
		flag bool
	}{{"default job", false}, {"aadOptscim062020", true}} {
		step(t, job.name, func(t TB) { entraJob(t, newSession(tg, "Entra ("+job.name+")"), job.flag) })
	}
}

// custom is a custom extension found in /Schemas with a string attribute.
type custom struct{ urn, attr string }

func entraJob(t TB, s *session, flag bool) {
	t.Helper()
	defer s.cleanup(t)
	op := func(o string) string { // Entra's default job capitalises op names
		if flag {
			return strings.ToLower(o)
		}
		return o
	}
	boolean := func(b bool) string {
		if flag {
			return fmt.Sprint(b)
		}
		if b {
			return `"True"`
		}
		return `"False"`
	}
	var (
		ext              custom
		userID, mgrID    string
		userName         = s.name("ada@contoso.example")
		email            = s.name("ada.work@contoso.example")
		objectID         = s.name("0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef")
		groupID, groupDN = "", s.name("Backup Admins")
	)
	step(t, "test connection", func(t TB) {
		c := s.check(t, "testing the connection (Test Connection)")
		r := s.do("GET", "/Users?filter="+q(`userName eq "`+s.name("f1c6e1b8-2b4e-4c4e-9a55-0a4a8a0c6f11")+`"`), "")
		if len(c.list(r)) != 0 || total(r) != 0 {
			c.failf(r, "a userName filter on a random GUID must find nothing")
		}
		r = s.do("GET", "/Groups?excludedAttributes=members&filter="+q(`displayName eq "`+s.name("9c1e")+`"`), "")
		if len(c.list(r)) != 0 {
			c.failf(r, "a displayName filter on a random GUID must find nothing")
		}
		bad := s.do("GET", "/Users?filter="+q(`userName eq "x"`), "", "Authorization", "Bearer wrong-"+s.run)
		c.errorBody(bad, http.StatusUnauthorized)
	})
	step(t, "schema discovery", func(t TB) {
		c := s.check(t, "reading /Schemas (saving the provisioning settings)")
		for _, sc := range c.list(s.do("GET", "/Schemas", "")) {
			id, _ := sc["id"].(string)
			if !strings.HasPrefix(strings.ToLower(id), "urn:ietf:params:scim:schemas:extension:") || strings.EqualFold(id, enterpriseURN) || ext.urn != "" {
				continue
			}
			attrs, _ := sc["attributes"].([]any)
			for _, a := range attrs {
				m, _ := a.(map[string]any)
				if m["type"] == "string" && m["multiValued"] != true && m["mutability"] != "readOnly" {
					ext = custom{urn: id, attr: fmt.Sprint(m["name"])}
					break
				}
			}
		}
	})
	step(t, "lookup before create", func(t TB) {
		c := s.check(t, "matching user "+userName)
		if r := s.do("GET", "/Users?filter="+q(`userName eq "`+userName+`"`), ""); len(c.list(r)) != 0 {
			c.failf(r, "the user does not exist yet, but the filter found it")
		}
	})
	step(t, "create user", func(t TB) {
		c := s.check(t, "creating user "+userName)
		body := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","` + enterpriseURN + `"],
		 "externalId":` + js(objectID) + `,"userName":` + js(userName) + `,"active":true,"displayName":"Ada Lovelace",
		 "emails":[{"primary":true,"type":"work","value":` + js(email) + `}],"meta":{"resourceType":"User"},
		 "name":{"formatted":"Ada Lovelace","familyName":"Lovelace","givenName":"Ada"},"roles":[],
		 "` + enterpriseURN + `":{"department":"R&D","employeeNumber":"1815"}`
		if ext.urn != "" { // nested, its URN missing from "schemas", as Entra sends it
			body += `,"` + ext.urn + `":{"` + ext.attr + `":"Pune"}`
		}
		r := s.do("POST", "/Users", body+"}")
		c.status(r, http.StatusCreated)
		userID = c.resource(r, "/Users")
		s.users = append(s.users, userID)
		if loc := r.header.Get("Location"); !strings.HasSuffix(loc, "/Users/"+userID) {
			c.failf(r, "Location header %q does not name the new user", loc)
		}
		c.equal(r, "userName", userName)
		c.equal(r, "externalId", objectID)
		c.equal(r, enterpriseURN+"|department", "R&D")
		if ext.urn != "" {
			c.equal(r, ext.urn+"|"+ext.attr, "Pune")
			if !hasString(r.doc["schemas"], ext.urn) {
				c.failf(r, "schemas does not list %s, whose attributes the user has", ext.urn)
			}
		}
		if _, ok := r.doc["password"]; ok {
			c.failf(r, "password is returned")
		}
	})
	step(t, "create manager", func(t TB) {
		c := s.check(t, "creating the manager")
		r := s.do("POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":`+js(s.name("grace@contoso.example"))+`,"active":true}`)
		c.status(r, http.StatusCreated)
		mgrID = c.resource(r, "/Users")
		s.users = append(s.users, mgrID)
	})
	step(t, "duplicate create is 409", func(t TB) {
		c := s.check(t, "creating user "+userName+" again")
		r := s.do("POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":`+js(strings.ToUpper(userName))+`}`)
		c.errorBody(r, http.StatusConflict)
		if r.doc["scimType"] != "uniqueness" {
			c.failf(r, `scimType must be "uniqueness"`)
		}
	})
	step(t, "lookups", func(t TB) {
		need(t, "user", userID)
		c := s.check(t, "matching user "+userName)
		for _, f := range []string{
			`userName eq "` + strings.ToUpper(userName) + `"`,
			`externalId eq "` + objectID + `"`,
			`emails[type eq "work"].value eq "` + email + `"`,
		} {
			r := s.do("GET", "/Users?filter="+q(f), "")
			if l := c.list(r); len(l) != 1 || l[0]["id"] != userID {
				c.failf(r, "filter %s must find exactly the user", f)
			}
		}
		r := s.do("GET", "/Users/"+userID, "")
		c.status(r, http.StatusOK)
		c.resource(r, "/Users")
	})
	step(t, "update attributes", func(t TB) {
		need(t, "user", userID)
		c := s.check(t, "updating user "+userName)
		var body string
		if flag {
			body = patch(`{"op":"replace","path":"emails[type eq \"work\"].value","value":`+js("new."+email)+`}`,
				`{"op":"replace","value":{"displayName":"Ada King","name.givenName":"Augusta","name.familyName":"King","`+enterpriseURN+`:employeeNumber":"1852"}}`)
		} else {
			body = patch(`{"op":"Replace","path":"displayName","value":"Ada King"}`,
				`{"op":"Replace","path":"emails[type eq \"work\"].value","value":`+js("new."+email)+`}`,
				`{"op":"Replace","path":"name.givenName","value":"Augusta"}`,
				`{"op":"Replace","path":"name.familyName","value":"King"}`,
				`{"op":"Replace","path":"`+enterpriseURN+`:employeeNumber","value":"1852"}`)
		}
		c.status(s.do("PATCH", "/Users/"+userID, body), http.StatusOK, http.StatusNoContent)
		r := s.do("GET", "/Users/"+userID, "")
		c.status(r, http.StatusOK)
		c.equal(r, "displayName", "Ada King")
		c.equal(r, "name.givenName", "Augusta")
		c.equal(r, "name.familyName", "King")
		c.equal(r, enterpriseURN+"|employeeNumber", "1852")
		c.equal(r, enterpriseURN+"|department", "R&D")
		if got := workEmail(r.doc); got != "new."+email {
			c.failf(r, "the work e-mail reads back as %q", got)
		}
	})
	step(t, "add single value", func(t TB) {
		need(t, "user", userID)
		c := s.check(t, "updating user "+userName)
		c.status(s.do("PATCH", "/Users/"+userID, patch(`{"op":"`+op("Add")+`","path":"nickName","value":"Babs"}`)), http.StatusOK, http.StatusNoContent)
		r := s.do("GET", "/Users/"+userID, "")
		c.status(r, http.StatusOK)
		c.equal(r, "nickName", "Babs")
	})
	step(t, "set manager", func(t TB) {
		need(t, "user", userID)
		need(t, "manager", mgrID)
		c := s.check(t, "updating the manager of "+userName)
		// A bare id, as Entra sends it; it must read back complex
		// (else: SystemForCrossDomainIdentityManagementServiceIncompatible).
		c.status(s.do("PATCH", "/Users/"+userID, patch(`{"op":"`+op("Add")+`","path":"`+enterpriseURN+`:manager","value":`+js(mgrID)+`}`)), http.StatusOK, http.StatusNoContent)
		r := s.do("GET", "/Users/"+userID, "")
		c.status(r, http.StatusOK)
		c.equal(r, enterpriseURN+"|manager.value", mgrID)
	})
	step(t, "remove manager", func(t TB) {
		need(t, "user", userID)
		c := s.check(t, "removing the manager of "+userName)
		c.status(s.do("PATCH", "/Users/"+userID, patch(`{"op":"`+op("Replace")+`","path":"`+enterpriseURN+`:manager","value":""}`)), http.StatusOK, http.StatusNoContent)
		r := s.do("GET", "/Users/"+userID, "")
		c.status(r, http.StatusOK)
		c.equal(r, enterpriseURN+"|manager", nil)
	})
	step(t, "deactivate", func(t TB) {
		need(t, "user", userID)
		c := s.check(t, "disabling user "+userName)
		c.status(s.do("PATCH", "/Users/"+userID, patch(`{"op":"`+op("Replace")+`","path":"active","value":`+boolean(false)+`}`)), http.StatusOK, http.StatusNoContent)
		r := s.do("GET", "/Users/"+userID, "")
		c.status(r, http.StatusOK)
		c.equal(r, "active", false)
		if l := c.list(s.do("GET", "/Users?filter="+q(`userName eq "`+userName+`"`), "")); len(l) != 1 {
			c.failf(nil, "a disabled user must still be found by its userName")
		}
	})
	step(t, "reactivate", func(t TB) {
		need(t, "user", userID)
		c := s.check(t, "enabling user "+userName)
		c.status(s.do("PATCH", "/Users/"+userID, patch(`{"op":"`+op("Replace")+`","path":"active","value":`+boolean(true)+`}`)), http.StatusOK, http.StatusNoContent)
		r := s.do("GET", "/Users/"+userID, "")
		c.status(r, http.StatusOK)
		c.equal(r, "active", true)
	})
	step(t, "change userName", func(t TB) {
		need(t, "user", userID)
		c := s.check(t, "updating the userName of "+userName)
		userName = s.name("ada.king@contoso.example")
		c.status(s.do("PATCH", "/Users/"+userID, patch(`{"op":"`+op("Replace")+`","path":"userName","value":`+js(userName)+`}`)), http.StatusOK, http.StatusNoContent)
		r := s.do("GET", "/Users?filter="+q(`userName eq "`+userName+`"`), "")
		if l := c.list(r); len(l) != 1 || l[0]["id"] != userID {
			c.failf(r, "the new userName must find the user")
		}
	})
	step(t, "paging", func(t TB) {
		c := s.check(t, "paging through users (gallery validator)")
		for i := 0; i < 9; i++ {
			r := s.do("POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":`+js(s.name(fmt.Sprintf("page-%02d@contoso.example", i)))+`}`)
			c.status(r, http.StatusCreated)
			id := c.resource(r, "/Users")
			s.users = append(s.users, id)
		}
		seen := map[string]bool{}
		r1 := s.do("GET", "/Users?startIndex=1&count=5", "")
		p1 := c.list(r1)
		r2 := s.do("GET", "/Users?startIndex=6&count=5", "")
		p2 := c.list(r2)
		if len(p1) != 5 || total(r1) < 11 {
			c.failf(r1, "page 1 of at least 11 users must hold 5")
		}
		c.equal(r2, "startIndex", 6)
		for _, p := range append(p1, p2...) {
			id := fmt.Sprint(p["id"])
			if seen[id] {
				c.failf(r2, "user %s is on both pages", id)
			}
			seen[id] = true
		}
	})
	step(t, "group push", func(t TB) {
		c := s.check(t, "creating group "+groupDN)
		if l := c.list(s.do("GET", "/Groups?excludedAttributes=members&filter="+q(`displayName eq "`+groupDN+`"`), "")); len(l) != 0 {
			c.failf(nil, "the group does not exist yet, but the filter found it")
		}
		r := s.do("POST", "/Groups", `{"externalId":`+js(s.name("8aa1a0c0"))+`,"displayName":`+js(groupDN)+`,"members":[],
		 "schemas":["urn:ietf:params:scim:schemas:core:2.0:Group","http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"]}`)
		c.status(r, http.StatusCreated)
		groupID = c.resource(r, "/Groups")
		s.groups = append(s.groups, groupID)
		r = s.do("GET", "/Groups/"+groupID+"?excludedAttributes=members", "")
		c.status(r, http.StatusOK)
		c.equal(r, "displayName", groupDN)
		if _, ok := r.doc["members"]; ok {
			c.failf(r, "excludedAttributes=members must leave members out")
		}
	})
	step(t, "add members", func(t TB) {
		need(t, "group", groupID)
		need(t, "user", userID)
		c := s.check(t, "adding members to group "+groupDN)
		r := s.do("PATCH", "/Groups/"+groupID, patch(`{"op":"`+op("Add")+`","path":"members","value":[{"$ref":null,"value":`+js(userID)+`},{"$ref":null,"value":`+js(mgrID)+`}]}`))
		c.status(r, http.StatusNoContent, http.StatusOK)
		r = s.do("GET", "/Groups/"+groupID, "")
		c.status(r, http.StatusOK)
		if m := memberIDs(r.doc); !m[userID] || !m[mgrID] || len(m) != 2 {
			c.failf(r, "members must be exactly %s and %s", userID, mgrID)
		}
	})
	step(t, "remove member", func(t TB) {
		need(t, "group", groupID)
		c := s.check(t, "removing a member from group "+groupDN)
		o := `{"op":"Remove","path":"members","value":[{"value":` + js(mgrID) + `}]}`
		if flag {
			o = `{"op":"remove","path":"members[value eq \"` + mgrID + `\"]"}`
		}
		c.status(s.do("PATCH", "/Groups/"+groupID, patch(o)), http.StatusNoContent, http.StatusOK)
		r := s.do("GET", "/Groups/"+groupID, "")
		c.status(r, http.StatusOK)
		if m := memberIDs(r.doc); !m[userID] || m[mgrID] || len(m) != 1 {
			c.failf(r, "members must be exactly %s", userID)
		}
	})
	step(t, "rename group", func(t TB) {
		need(t, "group", groupID)
		c := s.check(t, "updating group "+groupDN)
		groupDN = s.name("Backup Operators")
		c.status(s.do("PATCH", "/Groups/"+groupID, patch(`{"op":"`+op("Replace")+`","path":"displayName","value":`+js(groupDN)+`}`)), http.StatusNoContent, http.StatusOK)
		r := s.do("GET", "/Groups?excludedAttributes=members&filter="+q(`displayName eq "`+groupDN+`"`), "")
		if l := c.list(r); len(l) != 1 || l[0]["id"] != groupID {
			c.failf(r, "the new displayName must find the group")
		}
	})
	step(t, "delete group", func(t TB) {
		need(t, "group", groupID)
		c := s.check(t, "deleting group "+groupDN)
		c.status(s.do("DELETE", "/Groups/"+groupID, ""), http.StatusNoContent)
		c.errorBody(s.do("GET", "/Groups/"+groupID, ""), http.StatusNotFound)
	})
	step(t, "delete user", func(t TB) {
		need(t, "user", userID)
		c := s.check(t, "deleting user "+userName)
		c.status(s.do("DELETE", "/Users/"+userID, ""), http.StatusNoContent)
		c.errorBody(s.do("GET", "/Users/"+userID, ""), http.StatusNotFound)
		c.errorBody(s.do("DELETE", "/Users/"+userID, ""), http.StatusNotFound)
	})
}
