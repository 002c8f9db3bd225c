package node

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/credanchor/credanchor/node/credential"
	"github.com/credanchor/credanchor/node/vc"
)

// statusEntriesCases are credentialStatus values (or whole
// credentials) that objectStatusEntries must read as statusEntries
// reads the text, or leave to it. fast says it must read them itself.
var statusEntriesCases = []struct {
	status string
	fast   bool
	// whole: status is the whole credential.
	whole bool
}{
	{`[{"id":"https://x/1#5","type":"BitstringStatusListEntry","statusPurpose":"revocation","statusListIndex":"5","statusListCredential":"https://x/1"},{"type":"BitstringStatusListEntry","statusPurpose":"suspension","statusListIndex":"7","statusListCredential":"https://x/2"}]`, true, false},
	{`{"type":"BitstringStatusListEntry","statusPurpose":"revocation","statusListIndex":"5","statusListCredential":"https://x/1"}`, true, false},
	{`{"type":"StatusList2021Entry","statusPurpose":"revocation","statusListIndex":"5","statusListCredential":"https://x/1"}`, true, false},
	{`[{"type":"BitstringStatusListEntry","statusPurpose":"revocation","statusListIndex":"5","statusListCredential":"https://x/1","extra":[1,{"a":2}]},{"type":"Other"},null,{},{"type":null}]`, true, false},
	{`[]`, true, false},
	{`{}`, true, false},
	{`null`, true, false},
	{`{"type":"BitstringStatusListEntry","statusPurpose":"revocation","statusListIndex":"x5","statusListCredential":"https://x/1"}`, false, false},
	{`{"type":"BitstringStatusListEntry","statusListIndex":"5","statusListCredential":"https://x/1"}`, false, false},
	{`{"type":"BitstringStatusListEntry","statusPurpose":"revocation","statusListIndex":"5"}`, false, false},
	{`{"type":"BitstringStatusListEntry","statusPurpose":"revocation","statusListIndex":5,"statusListCredential":"https://x/1"}`, false, false},
	{`{"Type":"BitstringStatusListEntry","statusPurpose":"revocation","statusListIndex":"5","statusListCredential":"https://x/1"}`, false, false},
	{`{"type":"BitstringStatusListEntry","statusPurpose":"revocation","STATUSLISTINDEX":"5","statusListCredential":"https://x/1"}`, false, false},
	{`{"type":["BitstringStatusListEntry"],"statusPurpose":"revocation","statusListIndex":"5","statusListCredential":"https://x/1"}`, false, false},
	{`{"type":"Other","id":7}`, false, false},
	{`["x"]`, false, false},
	{`[[]]`, false, false},
	{`"https://x/1"`, false, false},
	{`7`, false, false},
	{`true`, false, false},
	// A key that json.Unmarshal takes for credentialStatus.
	{`{"credentialstatus":{"type":"Other"},"credentialStatus":null}`, false, true},
	{`{"CredentialStatus":{"type":"Other"}}`, false, true},
	// ſ folds to s: json.Unmarshal matches it too.
	{`{"credentialStatuſ":{"type":"Other"}}`, false, true},
	{`{"type":"Other","ſtatusPurpose":"revocation"}`, false, false},
	{`{"credentialSubject":{}}`, true, true},
}

// credentialWith returns a credential whose credentialStatus is status, or
// status itself when it is the whole credential.
func credentialWith(status string, whole bool) []byte {
	if whole {
		return []byte(status)
	}
	return fmt.Appendf(nil, `{"@context":["https://www.w3.org/ns/credentials/v2"],"type":["VerifiableCredential"],"issuer":"did:example:i","credentialSubject":{"id":"did:example:s"},"credentialStatus":%s}`, status)
}

// TestObjectStatusEntries: reading the status entries from the decoded
// credential answers as reading them from its text, and ordinary
// credentials are read from the object.
func TestObjectStatusEntries(t *testing.T) {
	for _, tc := range statusEntriesCases {
		t.Run(tc.status, func(t *testing.T) {
			data := credentialWith(tc.status, tc.whole)
			c, err := vc.ParseCredential(data)
			if err != nil {
				t.Fatal(err)
			}
			_, _, _, ok := objectStatusEntries(c.Object())
			if ok != tc.fast {
				t.Errorf("read from the object: %v, want %v", ok, tc.fast)
			}
			checkSameStatusEntries(t, c, data)
		})
	}
}

// FuzzObjectStatusEntries: whatever the credential, the status entries
// read from its decoded object are those read from its text.
func FuzzObjectStatusEntries(f *testing.F) {
	for _, tc := range statusEntriesCases {
		f.Add(credentialWith(tc.status, tc.whole))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := vc.ParseCredential(data)
		if err != nil {
			return
		}
		checkSameStatusEntries(t, c, data)
	})
}

func checkSameStatusEntries(t *testing.T, c *vc.Credential, data []byte) {
	t.Helper()
	gotE, gotO, gotHas, gotErr := parsedStatusEntries(c, data, credential.FormJSON)
	wantE, wantO, wantHas, wantErr := statusEntries(data, credential.FormJSON)
	if !reflect.DeepEqual(gotE, wantE) || !reflect.DeepEqual(gotO, wantO) || gotHas != wantHas || fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
		t.Errorf("from the object: %v %q %v %v\nfrom the text: %v %q %v %v", gotE, gotO, gotHas, gotErr, wantE, wantO, wantHas, wantErr)
	}
}
