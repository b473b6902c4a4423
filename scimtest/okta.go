package scimtest

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// RunOkta replays Okta's provisioning against tg, once as an OIN app (GET
// then PUT of the whole user for updates, path-less PATCH to deactivate,
// PATCH for group membership and rename) and once as a custom (AIW) app
// (every update a PUT, groups pushed with PUT). Each: Test Connector
// Configuration, the OIN spec test's checks (ListResponse integers, 404
// and 401 error bodies, 409 on re-create, case-insensitive userName
// filter), create with password and groups:[], import paging, group push,
// rename, member add, remove and replace, and group delete. Okta never
// deletes users; the kit deletes its own at the end.
func RunOkta(t TB, tg Target) {
	t.Helper()
	for _, app := range []struct {
		name string
		put  bool
	}{{"OIN app", false}, {"custom app", true}} {
		step(t, app.name, func(t TB) { oktaApp(t, newSession(tg, "Okta ("+app.name+")"), app.put) })
	}
}

func oktaApp(t TB, s *session, put bool) {
	t.Helper()
	defer s.cleanup(t)
	var (
		userID, otherID string
		user            map[string]any
		userName        = s.name("test.user@okta.local")
		groupID         string
		groupDN         = s.name("Okta Group")
	)
	step(t, "test connector configuration", func(t TB) {
		c := s.check(t, "testing the connector configuration")
		c.list(s.do("GET", "/Users?startIndex=1&count=2", ""))
		r := s.do("GET", "/Users?filter="+q(`userName eq "x"`), "", "Authorization", "non-token")
		c.errorBody(r, http.StatusUnauthorized)
	})
	step(t, "lookup before create", func(t TB) {
		c := s.check(t, "checking whether "+userName+" exists")
		if l := c.list(s.do("GET", "/Users?filter="+q(`userName eq "`+userName+`"`)+"&startIndex=1&count=100", "")); len(l) != 0 {
			c.failf(nil, "the user does not exist yet, but the filter found it")
		}
	})
	step(t, "create user", func(t TB) {
		c := s.check(t, "creating user "+userName)
		r := s.do("POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":`+js(userName)+`,
		 "name":{"givenName":"Test","familyName":"User"},"emails":[{"primary":true,"value":`+js(userName)+`,"type":"work"}],
		 "displayName":"Test User","locale":"en-US","externalId":`+js(s.name("00ujl29u0le5T6Aj10h7"))+`,"groups":[],"password":"1mz050nq","active":true}`)
		c.status(r, http.StatusCreated)
		userID = c.resource(r, "/Users")
		s.users = append(s.users, userID)
		c.equal(r, "active", true)
		c.equal(r, "userName", userName)
		c.equal(r, "name.givenName", "Test")
		c.equal(r, "name.familyName", "User")
		if !hasString(r.doc["schemas"], "urn:ietf:params:scim:schemas:core:2.0:User") {
			c.failf(r, "schemas lacks the core User schema")
		}
		if _, ok := r.doc["password"]; ok {
			c.failf(r, "password is returned")
		}
	})
	step(t, "re-create is 409", func(t TB) {
		c := s.check(t, "creating user "+userName+" again")
		c.errorBody(s.do("POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":`+js(userName)+`,"active":true}`), http.StatusConflict)
	})
	step(t, "spec test reads", func(t TB) {
		need(t, "user", userID)
		c := s.check(t, "running the OIN spec test")
		r := s.do("GET", "/Users?count=1&startIndex=1", "")
		if l := c.list(r); len(l) != 1 {
			c.failf(r, "count=1 must return one user")
		} else if l[0]["id"] == nil || l[0]["userName"] == nil {
			c.failf(r, "Resources[0] lacks id or userName")
		}
		r = s.do("GET", "/Users/"+userID, "")
		c.status(r, http.StatusOK)
		c.equal(r, "id", userID)
		if l := c.list(s.do("GET", "/Users?filter="+q(`userName eq "`+strings.ToUpper(userName)+`"`), "")); len(l) != 1 {
			c.failf(nil, "an upper-case userName filter must find the user")
		}
		if l := c.list(s.do("GET", "/Users?filter="+q(`userName eq "`+s.name("nobody")+`"`), "")); len(l) != 0 {
			c.failf(nil, "an unknown userName must find nothing")
		}
		c.errorBody(s.do("GET", "/Users/00919288221112222", ""), http.StatusNotFound)
		start := time.Now()
		c.list(s.do("GET", "/Groups", ""))
		if d := time.Since(start); d > 600*time.Millisecond {
			c.failf(nil, "GET /Groups took %v, over 600 ms", d)
		}
	})
	step(t, "update user", func(t TB) {
		need(t, "user", userID)
		c := s.check(t, "updating user "+userName)
		r := s.do("GET", "/Users/"+userID, "")
		c.status(r, http.StatusOK)
		user = r.doc
		user["title"] = "Engineer"
		user["groups"] = []any{} // readOnly, sent back anyway
		r = s.do("PUT", "/Users/"+userID, show(user))
		c.status(r, http.StatusOK)
		c.equal(r, "title", "Engineer")
		r = s.do("GET", "/Users/"+userID, "")
		c.status(r, http.StatusOK)
		c.equal(r, "title", "Engineer")
		c.equal(r, "name.givenName", "Test")
		user = r.doc
	})
	for _, active := range []bool{false, true} {
		name := map[bool]string{false: "deactivate", true: "reactivate"}[active]
		step(t, name, func(t TB) {
			need(t, "user", userID)
			c := s.check(t, name+" user "+userName)
			if put {
				user["active"] = active
				c.status(s.do("PUT", "/Users/"+userID, show(user)), http.StatusOK)
			} else {
				c.status(s.do("PATCH", "/Users/"+userID, patch(fmt.Sprintf(`{"op":"replace","value":{"active":%v}}`, active))), http.StatusOK, http.StatusNoContent)
			}
			r := s.do("GET", "/Users/"+userID, "")
			c.status(r, http.StatusOK)
			c.equal(r, "active", active)
			c.equal(r, "title", "Engineer")
		})
	}
	step(t, "import", func(t TB) {
		c := s.check(t, "importing users")
		r := s.do("POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":`+js(s.name("other@okta.local"))+`,"active":true}`)
		c.status(r, http.StatusCreated)
		otherID = c.resource(r, "/Users")
		s.users = append(s.users, otherID)
		seen := map[string]bool{}
		const pageSize = 100
		for start, pages := 1, 0; pages < 50; pages++ {
			r := s.do("GET", fmt.Sprintf("/Users?startIndex=%d&count=%d", start, pageSize), "")
			l := c.list(r)
			c.equal(r, "startIndex", start)
			for _, u := range l {
				id := fmt.Sprint(u["id"])
				if seen[id] {
					c.failf(r, "user %s seen twice: the order is not stable", id)
				}
				seen[id] = true
			}
			start += len(l)
			if len(l) == 0 || start > total(r) {
				break
			}
		}
		if !seen[userID] || !seen[otherID] {
			c.failf(nil, "the import missed the users this run created")
		}
	})
	step(t, "push group", func(t TB) {
		need(t, "user", userID)
		c := s.check(t, "pushing group "+groupDN)
		if l := c.list(s.do("GET", "/Groups?filter="+q(`displayName eq "`+groupDN+`"`), "")); len(l) != 0 {
			c.failf(nil, "the group does not exist yet, but the filter found it")
		}
		r := s.do("POST", "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":`+js(groupDN)+`,"members":[]}`)
		c.status(r, http.StatusCreated)
		groupID = c.resource(r, "/Groups")
		s.groups = append(s.groups, groupID)
		c.equal(r, "displayName", groupDN)
	})
	// setMembers changes the members and checks the read-back.
	setMembers := func(t TB, c *check, body string, want ...string) {
		t.Helper()
		if put {
			r := s.do("GET", "/Groups/"+groupID, "")
			c.status(r, http.StatusOK)
			var ms []any
			for _, id := range want {
				ms = append(ms, map[string]any{"value": id})
			}
			r.doc["members"] = ms
			r.doc["displayName"] = groupDN
			c.status(s.do("PUT", "/Groups/"+groupID, show(r.doc)), http.StatusOK)
		} else {
			c.status(s.do("PATCH", "/Groups/"+groupID, body), http.StatusOK, http.StatusNoContent)
		}
		r := s.do("GET", "/Groups/"+groupID, "")
		c.status(r, http.StatusOK)
		m := memberIDs(r.doc)
		ok := len(m) == len(want)
		for _, id := range want {
			ok = ok && m[id]
		}
		if !ok {
			c.failf(r, "members must be exactly %v", want)
		}
		c.equal(r, "displayName", groupDN)
	}
	step(t, "add member", func(t TB) {
		need(t, "group", groupID)
		c := s.check(t, "adding a member to group "+groupDN)
		setMembers(t, c, patch(`{"op":"replace","value":{"id":`+js(groupID)+`,"displayName":`+js(groupDN)+`}}`,
			`{"op":"add","path":"members","value":[{"value":`+js(userID)+`,"display":`+js(userName)+`}]}`), userID)
	})
	step(t, "replace members", func(t TB) {
		need(t, "group", groupID)
		need(t, "second user", otherID)
		c := s.check(t, "pushing the members of group "+groupDN)
		setMembers(t, c, patch(`{"op":"replace","path":"members","value":[{"value":`+js(userID)+`},{"value":`+js(otherID)+`}]}`), userID, otherID)
	})
	step(t, "remove member", func(t TB) {
		need(t, "group", groupID)
		c := s.check(t, "removing a member from group "+groupDN)
		setMembers(t, c, patch(`{"op":"replace","value":{"id":`+js(groupID)+`,"displayName":`+js(groupDN)+`}}`,
			`{"op":"remove","path":"members[value eq \"`+userID+`\"]"}`), otherID)
	})
	step(t, "rename group", func(t TB) {
		need(t, "group", groupID)
		c := s.check(t, "renaming group "+groupDN)
		groupDN = s.name("Okta Group Renamed")
		setMembers(t, c, patch(`{"op":"replace","value":{"id":`+js(groupID)+`,"displayName":`+js(groupDN)+`}}`), otherID)
	})
	step(t, "delete group", func(t TB) {
		need(t, "group", groupID)
		c := s.check(t, "deleting group "+groupDN+" (unlink with delete in target)")
		c.status(s.do("DELETE", "/Groups/"+groupID, ""), http.StatusNoContent)
		c.errorBody(s.do("GET", "/Groups/"+groupID, ""), http.StatusNotFound)
	})
}
