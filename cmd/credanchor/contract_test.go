package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/keystore"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/credanchor/credanchor/contracts/registry"
	"github.com/credanchor/credanchor/testnet"
)

// registryCLI runs `credanchor contract` subcommands against one registry.
type registryCLI struct {
	t        *testing.T
	rpc, reg string
}

// run runs `contract GROUP SUB` with the chain flags, signer (a key file, or
// none), --json when asked, and the positional arguments last, where
// urfave/cli wants them.
func (r registryCLI) run(group, sub string, signer []string, asJSON bool, pos ...string) (stdout, stderr string, code int) {
	r.t.Helper()
	args := []string{"contract", group, sub, "--rpc", r.rpc, "--registry", r.reg}
	args = append(args, signer...)
	if asJSON {
		args = append(args, "--json")
	}
	return run(r.t, append(args, pos...)...)
}

// ok runs a command that must succeed and decodes its --json output into v.
func (r registryCLI) ok(v any, group, sub string, signer []string, pos ...string) {
	r.t.Helper()
	stdout, stderr, code := r.run(group, sub, signer, true, pos...)
	if code != 0 {
		r.t.Fatalf("contract %s %s %v: exit %d\n%s", group, sub, pos, code, stderr)
	}
	if err := json.Unmarshal([]byte(stdout), v); err != nil {
		r.t.Fatalf("contract %s %s %v: %v in\n%s", group, sub, pos, err, stdout)
	}
}

// refused runs a command the registry must refuse with reason.
func (r registryCLI) refused(reason, group, sub string, signer []string, pos ...string) {
	r.t.Helper()
	stdout, stderr, code := r.run(group, sub, signer, false, pos...)
	checkRefusal(r.t, stdout, stderr, code, reason)
}

// checkRefusal checks a readable refusal: exit 1, the decoded custom error,
// and neither a Go stack nor bare revert data.
func checkRefusal(t *testing.T, stdout, stderr string, code int, reason string) {
	t.Helper()
	if code != 1 || !strings.Contains(stderr, "refused by the registry: "+reason) {
		t.Fatalf("exit %d, stderr %q, want refused by the registry: %s", code, stderr, reason)
	}
	if stdout != "" || strings.Contains(stderr, "goroutine ") || strings.Contains(stderr, "panic") || strings.Contains(stderr, "execution reverted") {
		t.Fatalf("unreadable refusal: stdout %q, stderr %q", stdout, stderr)
	}
}

func key(k testKey) []string { return []string{"--key", k.file} }

func newAddress(t *testing.T) string {
	t.Helper()
	k, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return crypto.PubkeyToAddress(k.PublicKey).Hex()
}

// TestContractGovernance walks a consortium through the CLI: deploy with two
// members and threshold 2, add a third, authorise, revoke and rotate node
// keys, remove the third, and see the registry's refusals as readable errors.
func TestContractGovernance(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	chain, err := testnet.New(ctx, testnet.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer chain.Close()
	dir := t.TempDir()
	dev := chain.Keys()
	a := saveTestKey(t, dir, "a", dev[0])
	b := saveTestKey(t, dir, "b", dev[1])
	c := saveTestKey(t, dir, "c", dev[2])
	outsider := saveTestKey(t, dir, "outsider", dev[3])

	// B signs from an encrypted keystore, to cover that way of loading a key.
	k := &keystore.Key{Address: crypto.PubkeyToAddress(b.key.PublicKey), PrivateKey: b.key}
	ksJSON, err := keystore.EncryptKey(k, "b's password", keystore.LightScryptN, keystore.LightScryptP)
	if err != nil {
		t.Fatal(err)
	}
	ksFile := filepath.Join(dir, "b.keystore")
	if err := os.WriteFile(ksFile, ksJSON, 0o600); err != nil {
		t.Fatal(err)
	}
	bKeystore := []string{"--keystore", ksFile, "--password-file", writePassword(t, dir, "b.pw", "b's password\n")}

	// Deploy.
	stdout, stderr, code := run(t, "contract", "deploy", "--rpc", chain.RPCURL(), "--key", a.file,
		"--member", a.addr+",did:web:a.example,Alpha University",
		"--member", b.addr+",did:web:b.example,Beta College, Ltd",
		"--threshold", "2", "--json")
	if code != 0 {
		t.Fatalf("contract deploy: exit %d\n%s", code, stderr)
	}
	var dep struct {
		Contract common.Address
		TxHash   *common.Hash
		ChainID  uint64
	}
	if err := json.Unmarshal([]byte(stdout), &dep); err != nil {
		t.Fatalf("contract deploy --json: %v in %s", err, stdout)
	}
	if dep.ChainID != chain.ChainID().Uint64() || dep.TxHash == nil {
		t.Fatalf("contract deploy --json = %s", stdout)
	}
	rcpt, err := chain.Client().TransactionReceipt(ctx, *dep.TxHash)
	if err != nil || rcpt.ContractAddress != dep.Contract {
		t.Fatalf("deployment receipt %+v (%v), want contract %s", rcpt, err, dep.Contract)
	}
	r := registryCLI{t: t, rpc: chain.RPCURL(), reg: dep.Contract.Hex()}

	type listing struct {
		Threshold, MemberCount, Epoch, ProposalCount uint64
		Members                                      []struct {
			Address common.Address
			DID     string
			Name    string
			Active  bool
			Keys    []common.Address
		}
	}
	var l listing
	r.ok(&l, "member", "list", nil)
	if l.Threshold != 2 || l.MemberCount != 2 || l.Epoch != 1 || len(l.Members) != 2 ||
		l.Members[1].Address.Hex() != b.addr || l.Members[1].Name != "Beta College, Ltd" || !l.Members[1].Active {
		t.Fatalf("member list = %+v", l)
	}
	stdout, _, _ = r.run("member", "list", nil, false)
	if !strings.Contains(stdout, "threshold 2 of 2 members") || !strings.Contains(stdout, "Alpha University") {
		t.Fatalf("member list:\n%s", stdout)
	}

	// A proposes C: one approval of two, not executed.
	type outcome struct {
		Proposal  uint64
		Approvals uint32
		Executed  bool
	}
	var o outcome
	r.ok(&o, "member", "propose-add", key(a), c.addr, "did:web:c.example", "Gamma Institute")
	if o != (outcome{Proposal: 1, Approvals: 1}) {
		t.Fatalf("propose-add = %+v, want proposal 1 with one approval, not executed", o)
	}
	var p struct {
		Action     string
		Member     common.Address
		Approvals  uint32
		State      string
		ApprovedBy []common.Address
	}
	r.ok(&p, "member", "show", nil, "1")
	if p.Action != "add-member" || p.Member.Hex() != c.addr || p.Approvals != 1 || p.State != "open" ||
		len(p.ApprovedBy) != 1 || p.ApprovedBy[0].Hex() != a.addr {
		t.Fatalf("member show 1 = %+v", p)
	}

	// What the registry refuses while proposal 1 is open.
	for _, tc := range []struct {
		name   string
		sub    string
		signer []string
		args   []string
		reason string
	}{
		{"non-member proposes", "propose-add", key(outsider), []string{newAddress(t), "did:web:x.example", "X"}, "NotMember(" + outsider.addr + ")"},
		{"duplicate approval", "approve", key(a), []string{"1"}, "AlreadyApproved(1, " + a.addr + ")"},
		{"threshold above member count", "propose-threshold", key(a), []string{"5"}, "ThresholdOutOfRange(5, 2)"},
		{"threshold zero", "propose-threshold", bKeystore, []string{"0"}, "ThresholdOutOfRange(0, 2)"},
		{"unknown proposal", "approve", key(b), []string{"99"}, "UnknownProposal(99)"},
		{"existing member", "propose-add", key(a), []string{b.addr, "did:web:b2.example", "B again"}, "AlreadyMember(" + b.addr + ")"},
		{"empty DID", "propose-add", key(a), []string{newAddress(t), "", "No DID"}, "EmptyDID()"},
		{"remove a non-member", "propose-remove", key(a), []string{outsider.addr}, "NotMember(" + outsider.addr + ")"},
		// Two members with threshold 2 cannot shrink to one.
		{"remove below threshold", "propose-remove", key(a), []string{b.addr}, "ThresholdOutOfRange(2, 1)"},
		{"show unknown proposal", "show", nil, []string{"7"}, "UnknownProposal(7)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rt := r
			rt.t = t
			rt.refused(tc.reason, "member", tc.sub, tc.signer, tc.args...)
		})
	}

	// B approves from its keystore: executed, and C is a member.
	r.ok(&o, "member", "approve", bKeystore, "1")
	if o != (outcome{Proposal: 1, Approvals: 2, Executed: true}) {
		t.Fatalf("approve 1 = %+v, want two approvals, executed", o)
	}
	r.ok(&l, "member", "list", nil)
	if l.MemberCount != 3 || l.Epoch != 2 || len(l.Members) != 3 || l.Members[2].Address.Hex() != c.addr || l.Members[2].Name != "Gamma Institute" {
		t.Fatalf("member list after approval = %+v", l)
	}
	r.refused("ProposalClosed(1)", "member", "approve", key(c), "1")

	// Node keys.
	type keyView struct {
		State      string
		Member     *common.Address
		MemberName string
	}
	n1, n2, n3, n4 := newAddress(t), newAddress(t), newAddress(t), newAddress(t)
	var kv keyView
	r.ok(&kv, "key", "show", nil, n1)
	if kv.State != "none" || kv.Member != nil {
		t.Fatalf("key show of a new key = %+v", kv)
	}
	stdout, stderr, code = r.run("key", "authorize", key(a), false, n1)
	if code != 0 || !strings.Contains(stdout, "authorized:  "+n1) {
		t.Fatalf("key authorize: exit %d\n%s%s", code, stdout, stderr)
	}
	r.ok(&kv, "key", "show", nil, n1)
	if kv.State != "active" || kv.Member == nil || kv.Member.Hex() != a.addr || kv.MemberName != "Alpha University" {
		t.Fatalf("key show after authorize = %+v", kv)
	}
	r.refused("KeyAlreadyUsed("+n1+")", "key", "authorize", key(b), n1)
	r.refused("KeyNotAuthorized("+n1+")", "key", "revoke", key(b), n1)
	r.refused("NotMember("+outsider.addr+")", "key", "authorize", key(outsider), n2)
	r.ok(&struct{}{}, "key", "revoke", key(a), n1)
	r.ok(&kv, "key", "show", nil, n1)
	if kv.State != "revoked" || kv.Member.Hex() != a.addr {
		t.Fatalf("key show after revoke = %+v", kv)
	}
	r.refused("KeyAlreadyUsed("+n1+")", "key", "authorize", key(a), n1)

	r.ok(&struct{}{}, "key", "authorize", key(a), n2)
	var rot struct{ Revoked, Authorized common.Address }
	r.ok(&rot, "key", "rotate", key(a), n2, n3)
	if rot.Revoked.Hex() != n2 || rot.Authorized.Hex() != n3 {
		t.Fatalf("key rotate = %+v", rot)
	}
	for addr, want := range map[string]string{n2: "revoked", n3: "active"} {
		r.ok(&kv, "key", "show", nil, addr)
		if kv.State != want {
			t.Errorf("key %s after rotate: %s, want %s", addr, kv.State, want)
		}
	}
	r.refused("KeyNotAuthorized("+n2+")", "key", "rotate", key(a), n2, n4)

	// Remove C: its key is dropped. Meanwhile B proposes a threshold of 1,
	// which the removal's execution makes stale.
	r.ok(&struct{}{}, "key", "authorize", key(c), n4)
	r.ok(&o, "member", "propose-remove", key(a), c.addr)
	if o != (outcome{Proposal: 2, Approvals: 1}) {
		t.Fatalf("propose-remove = %+v", o)
	}
	stdout, stderr, code = r.run("member", "propose-threshold", bKeystore, false, "1")
	if code != 0 || !strings.Contains(stdout, "proposal:   3\n") || !strings.Contains(stdout, "executed:   false\n") {
		t.Fatalf("propose-threshold: exit %d\n%s%s", code, stdout, stderr)
	}
	r.ok(&o, "member", "approve", key(c), "2")
	if !o.Executed {
		t.Fatalf("approve 2 = %+v, want executed", o)
	}
	r.refused("ProposalStale(3)", "member", "approve", key(a), "3")
	r.ok(&p, "member", "show", nil, "3")
	if p.State != "stale" || p.Action != "set-threshold" {
		t.Fatalf("member show 3 = %+v", p)
	}
	r.ok(&kv, "key", "show", nil, n4)
	if kv.State != "dropped" || kv.Member.Hex() != c.addr {
		t.Fatalf("key of a removed member = %+v", kv)
	}
	r.ok(&l, "member", "list", nil)
	if l.MemberCount != 2 || len(l.Members) != 2 || len(l.Members[0].Keys) != 1 || l.Members[0].Keys[0].Hex() != n3 {
		t.Fatalf("member list after removal = %+v", l)
	}
	r.refused("NotMember("+c.addr+")", "member", "propose-threshold", key(c), "1")

	// Environment variables name the chain and the registry.
	stdout, stderr, code = runEnv(t, []string{"CREDANCHOR_RPC=" + r.rpc, "CREDANCHOR_REGISTRY=" + r.reg}, "contract", "member", "list")
	if code != 0 || !strings.Contains(stdout, "threshold 2 of 2 members") {
		t.Fatalf("member list from the environment: exit %d\n%s%s", code, stdout, stderr)
	}

	// Deployment refusals come from the constructor, before anything is paid.
	for _, tc := range []struct {
		name    string
		members []string
		thresh  string
		reason  string
	}{
		{"threshold above members", []string{a.addr + ",did:web:a,A", b.addr + ",did:web:b,B"}, "3", "ThresholdOutOfRange(3, 2)"},
		{"duplicate member", []string{a.addr + ",did:web:a,A", a.addr + ",did:web:a2,A2"}, "1", "AlreadyMember(" + a.addr + ")"},
		{"zero address", []string{"0x0000000000000000000000000000000000000000,did:web:z,Z"}, "1", "ZeroAddress()"},
	} {
		t.Run("deploy "+tc.name, func(t *testing.T) {
			args := []string{"contract", "deploy", "--rpc", r.rpc, "--key", a.file, "--threshold", tc.thresh}
			for _, m := range tc.members {
				args = append(args, "--member", m)
			}
			stdout, stderr, code := run(t, args...)
			checkRefusal(t, stdout, stderr, code, tc.reason)
		})
	}
}

// TestContractBadInput checks the mistakes the CLI catches before any
// transaction: they need a chain only where the registry address is checked.
func TestContractBadInput(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	chain, err := testnet.New(ctx, testnet.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer chain.Close()
	a := saveTestKey(t, t.TempDir(), "a", chain.Keys()[0])
	rpc := chain.RPCURL()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no members", []string{"contract", "deploy", "--rpc", rpc, "--key", a.file, "--threshold", "1"}, "at least one --member"},
		{"member without name", []string{"contract", "deploy", "--rpc", rpc, "--key", a.file, "--threshold", "1", "--member", a.addr + ",did:web:a"}, "want ADDR,DID,NAME"},
		{"member bad address", []string{"contract", "deploy", "--rpc", rpc, "--key", a.file, "--threshold", "1", "--member", "0x12,did:web:a,A"}, "is not an address"},
		{"no threshold", []string{"contract", "deploy", "--rpc", rpc, "--key", a.file, "--member", a.addr + ",did:web:a,A"}, "threshold"},
		{"registry without code", []string{"contract", "member", "list", "--rpc", rpc, "--registry", a.addr}, "no contract at"},
		{"registry not an address", []string{"contract", "member", "list", "--rpc", rpc, "--registry", "uni"}, "is not an address"},
		{"no registry", []string{"contract", "member", "list", "--rpc", rpc}, "registry"},
		{"flag after argument", []string{"contract", "member", "approve", "--rpc", rpc, "--registry", a.addr, "--key", a.file, "1", "--json"}, "go before the arguments"},
		{"id not a number", []string{"contract", "member", "approve", "--rpc", rpc, "--registry", a.addr, "--key", a.file, "one"}, "not a whole number"},
		{"chain down", []string{"contract", "member", "list", "--rpc", "http://127.0.0.1:1", "--registry", a.addr}, "connection refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := run(t, tc.args...)
			if code != 1 || !strings.Contains(stderr, tc.want) || strings.Contains(stderr, "goroutine ") {
				t.Fatalf("exit %d, stderr %q, want %q", code, stderr, tc.want)
			}
		})
	}
}

// TestDecodeRevert covers revert data the chain tests cannot produce: too
// short for a selector, a known selector with broken arguments, Solidity's
// Error(string), and an error of some other contract.
func TestDecodeRevert(t *testing.T) {
	notMember := registry.RegistryNotMemberErrorID().Bytes()[:4]
	member := common.HexToAddress("0x00000000000000000000000000000000000000aB")
	errorString := common.FromHex("0x08c379a0" +
		"0000000000000000000000000000000000000000000000000000000000000020" +
		"0000000000000000000000000000000000000000000000000000000000000002" +
		"6e6f000000000000000000000000000000000000000000000000000000000000")
	for _, tc := range []struct {
		name string
		raw  []byte
		want string
	}{
		{"custom error", append(append([]byte{}, notMember...), common.LeftPadBytes(member.Bytes(), 32)...), "NotMember(" + member.Hex() + ")"},
		{"short", []byte{0x01, 0x02}, "too short"},
		{"broken arguments", append(append([]byte{}, notMember...), 0x01), "NotMember with malformed arguments"},
		{"Error(string)", errorString, `"no"`},
		{"unknown", []byte{0xde, 0xad, 0xbe, 0xef}, "unknown error 0xdeadbeef"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := decodeRevert(tc.raw).Reason; !strings.Contains(got, tc.want) {
				t.Errorf("decodeRevert(%x) = %q, want %q", tc.raw, got, tc.want)
			}
		})
	}
}
