package cluster_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"

	"github.com/credanchor/credanchor/contracts/registry"
	"github.com/credanchor/credanchor/testnet/cluster"
)

func post(t *testing.T, url, token string, body any) (int, []byte) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, url, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

func get(t *testing.T, url string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// TestCluster starts three institutions on one dev chain: the registry has
// all three as members, the third added by a vote of the founders' threshold
// of two; each node issues a credential, which then verifies, with its
// receipt, through every node; a node restarted on its store carries on.
func TestCluster(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c, err := cluster.Start(ctx, cluster.Config{Nodes: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	reg := registry.NewRegistry()
	call := func(data []byte) []byte {
		out, err := c.Chain.Client().CallContract(ctx, ethereum.CallMsg{To: &c.Registry, Data: data}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	g, err := reg.UnpackGovernance(call(reg.PackGovernance()))
	if err != nil || g.Threshold != 2 || g.MemberCount != 3 || g.ProposalCount != 1 {
		t.Fatalf("governance %+v, %v; want threshold 2, 3 members, the third added by proposal 1", g, err)
	}
	for _, in := range c.Institutions {
		m, err := reg.UnpackMemberInfo(call(reg.PackMemberInfo(in.Member)))
		if err != nil || !m.Active || m.Did != in.Issuer.DID || m.Name != in.Name {
			t.Fatalf("member %s: %+v, %v", in.Name, m, err)
		}
	}

	type issued struct {
		cred    json.RawMessage
		receipt json.RawMessage
	}
	var creds []issued
	for i, in := range c.Institutions {
		unsigned := fmt.Sprintf(`{"@context":["https://www.w3.org/ns/credentials/v2"],"type":["VerifiableCredential"],"credentialSubject":{"id":"did:example:learner-%d"}}`, i)
		code, body := post(t, in.URL+"/v1/issue", in.Token, json.RawMessage(unsigned))
		if code != http.StatusCreated {
			t.Fatalf("%s issue: %d %s", in.Name, code, body)
		}
		var iss struct {
			Credential json.RawMessage `json:"credential"`
			Digest     common.Hash     `json:"digest"`
		}
		if err := json.Unmarshal(body, &iss); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(time.Minute)
		for {
			code, rc := get(t, in.URL+"/v1/credentials/"+iss.Digest.Hex()+"/receipt")
			if code == http.StatusOK {
				creds = append(creds, issued{iss.Credential, rc})
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: no receipt: %d %s", in.Name, code, rc)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	verifyEverywhere := func() {
		t.Helper()
		for i, cr := range creds {
			for _, in := range c.Institutions {
				deadline := time.Now().Add(time.Minute)
				for {
					code, body := post(t, in.URL+"/v1/verify", "", map[string]json.RawMessage{"credential": cr.cred, "receipt": cr.receipt})
					var v struct {
						Verified bool `json:"verified"`
					}
					_ = json.Unmarshal(body, &v)
					if code == http.StatusOK && v.Verified {
						break
					}
					// The issuer's status lists are published on their own clock.
					if time.Now().After(deadline) {
						t.Fatalf("credential of %s through %s: %d %s", c.Institutions[i].Name, in.Name, code, body)
					}
					time.Sleep(50 * time.Millisecond)
				}
			}
		}
	}
	verifyEverywhere()
	if err := c.StopNode(1); err != nil {
		t.Fatal(err)
	}
	if err := c.StartNode(ctx, 1); err != nil {
		t.Fatal(err)
	}
	verifyEverywhere()
}
