package scimkit_test

import (
	"fmt"

	"github.com/scimkit/scimkit"
)

// BackupAccount is a host product's own user, declared once with scim tags.
type BackupAccount struct {
	Login      string `scim:"userName,transform=lower"`
	Name       string `scim:"displayName"`
	Email      string `scim:"emails[type eq \"work\"].value"`
	EntraID    string `scim:"externalId"`
	City       string `scim:"urn:ietf:params:scim:schemas:extension:Druva:2.0:User:city"`
	Department string `scim:"urn:ietf:params:scim:schemas:extension:Druva:2.0:User:department,default=Unassigned"`
	Active     bool   `scim:"active"`
}

// A POST /Users body as Entra's default job sends it with Druva's mapping:
// the custom extension nested under its URN, which is missing from
// "schemas" (IDP.md §3).
const entraDruvaCreate = `{
  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
  "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
  "userName": "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1@contoso.com",
  "active": true,
  "displayName": "Test User",
  "emails": [{"primary": true, "type": "work", "value": "Test_User_fd0ea19b-0777-472c-9f96-4f70d2226f2e@contoso.com"}],
  "meta": {"resourceType": "User"},
  "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
  "roles": [],
  "urn:ietf:params:scim:schemas:extension:Druva:2.0:User": {"city": "Pune", "country": "IN", "userPrincipalName": "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1@contoso.com"}
}`

// The preset's admin table, the Entra body mapped into the host's struct,
// and back into a SCIM document.
func ExampleEntraPreset() {
	preset := scimkit.EntraPreset()
	fmt.Print(preset.Table())

	m, err := scimkit.NewMapping[BackupAccount](scimkit.ForPreset(preset))
	if err != nil {
		panic(err)
	}
	u, err := scimkit.UserFromJSON([]byte(entraDruvaCreate))
	if err != nil {
		panic(err)
	}
	acc, err := m.FromUser(u)
	if err != nil {
		panic(err)
	}
	fmt.Printf("\n%+v\n", acc)
	back := m.ToSCIM(&acc)
	fmt.Println(back["urn:ietf:params:scim:schemas:extension:Druva:2.0:User"], back["emails"])
	// Output:
	// Microsoft Entra ID (Druva's guide)
	// Microsoft Entra ID attribute  customappsso attribute                                                   Mapping type / apply / matching
	// userPrincipalName (or mail)   userName *                                                               Direct, always, match objects (precedence 1)
	// Not([IsSoftDeleted])          active *                                                                 Expression, always
	// displayName                   displayName *                                                            Direct, always
	// mail                          emails[type eq "work"].value *                                           Direct, always (mail is mandatory)
	// objectId                      externalId *                                                             Direct, always
	// userPrincipalName             urn:ietf:params:scim:schemas:extension:Druva:2.0:User:userPrincipalName  Direct, always (optional)
	// city                          urn:ietf:params:scim:schemas:extension:Druva:2.0:User:city               Direct, always (optional)
	// country                       urn:ietf:params:scim:schemas:extension:Druva:2.0:User:country            Direct, always (optional)
	// department                    urn:ietf:params:scim:schemas:extension:Druva:2.0:User:department         Direct, always (optional)
	// * required
	// - Add the Druva attributes under Show advanced options > Edit attribute list for customappsso, type String.
	// - Users without mail are skipped by the product: mail is mandatory.
	//
	// {Login:test_user_ab6490ee-1e48-479e-a20b-2d77186b5dd1@contoso.com Name:Test User Email:Test_User_fd0ea19b-0777-472c-9f96-4f70d2226f2e@contoso.com EntraID:0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef City:Pune Department:Unassigned Active:true}
	// map[city:Pune department:Unassigned] [map[type:work value:Test_User_fd0ea19b-0777-472c-9f96-4f70d2226f2e@contoso.com]]
}

// SeatUser is a host struct for an Okta-provisioned user.
type SeatUser struct {
	Login     string `scim:"userName"`
	Given     string `scim:"name.givenName"`
	Family    string `scim:"name.familyName"`
	Email     string `scim:"emails[type eq \"work\"].value"`
	EmailType string `scim:"emails[primary eq true].type"`
	Display   string `scim:"displayName"`
	Active    bool   `scim:"active"`
}

// A POST /Users body as Okta sends it (Okta's SCIM 2.0 protocol
// reference, "Create the user").
const oktaSpecCreate = `{
  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
  "userName": "test.user@okta.local",
  "name": {"givenName": "Test", "familyName": "User"},
  "emails": [{"primary": true, "value": "test.user@okta.local", "type": "work"}],
  "displayName": "Test User",
  "locale": "en-US",
  "externalId": "00ujl29u0le5T6Aj10h7",
  "groups": [],
  "password": "1mz050nq",
  "active": true
}`

// The Okta preset's admin table as Markdown, and Okta's create body
// mapped into the host's struct.
func ExampleOktaPreset() {
	preset := scimkit.OktaPreset()
	fmt.Print(preset.Markdown())

	m, err := scimkit.NewMapping[SeatUser](scimkit.ForPreset(preset))
	if err != nil {
		panic(err)
	}
	u, err := scimkit.UserFromJSON([]byte(oktaSpecCreate))
	if err != nil {
		panic(err)
	}
	su, err := m.FromUser(u)
	if err != nil {
		panic(err)
	}
	fmt.Printf("\n%+v\n", su)
	// Output:
	// | Okta attribute | App attribute (SCIM) | Apply on | Required |
	// |---|---|---|---|
	// | `Okta username (Application username format)` | `userName` | Create and update (unique identifier) | yes |
	// | `user.firstName` | `name.givenName` | Create | yes |
	// | `user.lastName` | `name.familyName` | Create | yes |
	// | `user.email` | `emails[type eq "work"].value` | Create and update | yes |
	// | `(user.email != null) ? 'work' : ''` | `emails[primary eq true].type` | Create | yes |
	// | `user.displayName` | `displayName` | Create and update | yes |
	//
	// - Delete every other attribute from the app's To App mappings; the product reads only these six.
	//
	// {Login:test.user@okta.local Given:Test Family:User Email:test.user@okta.local EmailType:work Display:Test User Active:true}
}
