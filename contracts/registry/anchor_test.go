package registry_test

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/credanchor/credanchor/contracts/registry"
)

// Key states, as the contract's KeyState enum numbers them.
const (
	keyNone uint8 = iota
	keyActive
	keyRevoked
	keyDropped
)

func TestKeys(t *testing.T) {
	a, b := newInstitution(t, "a"), newInstitution(t, "b")
	k1, k2, k3, outsider := newAccount(t, "k1"), newAccount(t, "k2"), newAccount(t, "k3"), newAccount(t, "outsider")
	ch := newRegistry(t, nil, []institution{a, b}, 1, outsider)
	reg := ch.reg

	keyOf := func(k common.Address) registry.KeyOfOutput {
		return call(ch, reg.PackKeyOf(k), reg.UnpackKeyOf)
	}
	keysOf := func(m institution) []common.Address {
		return call(ch, reg.PackKeysOf(m.addr), reg.UnpackKeysOf)
	}

	rcpt := ch.send(a.account, reg.PackAuthorizeKey(k1.addr))
	if ev := events(ch, rcpt, reg.UnpackKeyAuthorizedEvent); len(ev) != 1 || ev[0].Member != a.addr || ev[0].Key != k1.addr {
		t.Errorf("KeyAuthorized: got %+v", ev)
	}
	if got, want := keyOf(k1.addr), (registry.KeyOfOutput{Member: a.addr, State: keyActive}); got != want {
		t.Errorf("keyOf(k1): got %+v, want %+v", got, want)
	}
	if got := keyOf(k2.addr); got != (registry.KeyOfOutput{State: keyNone}) {
		t.Errorf("keyOf(unknown): got %+v", got)
	}
	// A member may anchor with its own address once it authorises it.
	ch.send(b.account, reg.PackAuthorizeKey(b.addr))

	for _, tc := range []struct {
		name string
		from account
		data []byte
		want any
	}{
		{"outsider authorises", outsider, reg.PackAuthorizeKey(k2.addr), &registry.RegistryNotMember{Account: outsider.addr}},
		{"outsider revokes", outsider, reg.PackRevokeKey(k1.addr), &registry.RegistryNotMember{Account: outsider.addr}},
		{"outsider rotates", outsider, reg.PackRotateKey(k1.addr, k2.addr), &registry.RegistryNotMember{Account: outsider.addr}},
		{"zero key", a.account, reg.PackAuthorizeKey(common.Address{}), &registry.RegistryZeroAddress{}},
		{"key of another member", b.account, reg.PackAuthorizeKey(k1.addr), &registry.RegistryKeyAlreadyUsed{Key: k1.addr}},
		{"key authorised twice", a.account, reg.PackAuthorizeKey(k1.addr), &registry.RegistryKeyAlreadyUsed{Key: k1.addr}},
		{"another member's address", a.account, reg.PackAuthorizeKey(b.addr), &registry.RegistryKeyAlreadyUsed{Key: b.addr}},
		{"revoke another member's key", b.account, reg.PackRevokeKey(k1.addr), &registry.RegistryKeyNotAuthorized{Key: k1.addr}},
		{"revoke unknown key", a.account, reg.PackRevokeKey(k2.addr), &registry.RegistryKeyNotAuthorized{Key: k2.addr}},
		{"rotate another member's key", b.account, reg.PackRotateKey(k1.addr, k2.addr), &registry.RegistryKeyNotAuthorized{Key: k1.addr}},
		{"rotate to a used key", a.account, reg.PackRotateKey(k1.addr, b.addr), &registry.RegistryKeyAlreadyUsed{Key: b.addr}},
		{"rotate to zero", a.account, reg.PackRotateKey(k1.addr, common.Address{}), &registry.RegistryZeroAddress{}},
	} {
		t.Run(tc.name, func(t *testing.T) { ch.wantRevert(tc.from, tc.data, tc.want) })
	}
	// A failed rotation changed nothing.
	if got := keyOf(k1.addr); got.State != keyActive {
		t.Errorf("k1 after failed rotations: got %+v, want active", got)
	}

	rcpt = ch.send(a.account, reg.PackRotateKey(k1.addr, k2.addr))
	if ev := events(ch, rcpt, reg.UnpackKeyRevokedEvent); len(ev) != 1 || ev[0].Member != a.addr || ev[0].Key != k1.addr {
		t.Errorf("rotate KeyRevoked: got %+v", ev)
	}
	if ev := events(ch, rcpt, reg.UnpackKeyAuthorizedEvent); len(ev) != 1 || ev[0].Key != k2.addr {
		t.Errorf("rotate KeyAuthorized: got %+v", ev)
	}
	if got, want := keyOf(k1.addr), (registry.KeyOfOutput{Member: a.addr, State: keyRevoked}); got != want {
		t.Errorf("keyOf(k1) after rotation: got %+v, want %+v", got, want)
	}
	if got := keysOf(a); !slices.Equal(got, []common.Address{k2.addr}) {
		t.Errorf("keysOf(a): got %v, want [k2]", got)
	}
	// A revoked key is never authorised again, by anyone.
	ch.wantRevert(a.account, reg.PackAuthorizeKey(k1.addr), &registry.RegistryKeyAlreadyUsed{Key: k1.addr})
	ch.wantRevert(b.account, reg.PackAuthorizeKey(k1.addr), &registry.RegistryKeyAlreadyUsed{Key: k1.addr})
	ch.wantRevert(a.account, reg.PackRevokeKey(k1.addr), &registry.RegistryKeyNotAuthorized{Key: k1.addr})

	rcpt = ch.send(a.account, reg.PackRevokeKey(k2.addr))
	if ev := events(ch, rcpt, reg.UnpackKeyRevokedEvent); len(ev) != 1 || ev[0].Key != k2.addr {
		t.Errorf("KeyRevoked: got %+v", ev)
	}
	if got := keysOf(a); len(got) != 0 {
		t.Errorf("keysOf(a) after revoking all: got %v", got)
	}
	ch.send(a.account, reg.PackAuthorizeKey(k3.addr))
	if got := keysOf(a); !slices.Equal(got, []common.Address{k3.addr}) {
		t.Errorf("keysOf(a): got %v, want [k3]", got)
	}
}

// TestKeyLimit fills a member's key list, and revokes from the middle and the
// ends to check that the list and the keys' positions stay consistent.
func TestKeyLimit(t *testing.T) {
	const maxKeys = 32
	a := newInstitution(t, "a")
	var keys []account
	for i := range maxKeys + 1 {
		keys = append(keys, newAccount(t, fmt.Sprintf("key %d", i)))
	}
	ch := newRegistry(t, nil, []institution{a}, 1, keys...)
	reg := ch.reg
	extra := keys[maxKeys]
	keys = keys[:maxKeys]
	for _, k := range keys {
		ch.send(a.account, reg.PackAuthorizeKey(k.addr))
	}
	ch.wantRevert(a.account, reg.PackAuthorizeKey(extra.addr), &registry.RegistryTooManyKeys{Member: a.addr})

	addrs := func(keys []account) []common.Address {
		var out []common.Address
		for _, k := range keys {
			out = append(out, k.addr)
		}
		return out
	}
	// Rotation works at the limit: the old key leaves first (the last key
	// moves into its place) and the new key is appended.
	ch.send(a.account, reg.PackRotateKey(keys[5].addr, extra.addr))
	keys[5], keys[maxKeys-1] = keys[maxKeys-1], extra
	for _, i := range []int{0, 30, 7, 0, 10} {
		// Revoke keys[i] of the model list, which mirrors the contract's
		// move-the-last-key-into-the-gap removal.
		ch.send(a.account, reg.PackRevokeKey(keys[i].addr))
		last := len(keys) - 1
		keys[i] = keys[last]
		keys = keys[:last]
		if got, want := call(ch, reg.PackKeysOf(a.addr), reg.UnpackKeysOf), addrs(keys); !slices.Equal(got, want) {
			t.Fatalf("keysOf after revoking index %d: got %v, want %v", i, got, want)
		}
	}
	// Every remaining key still anchors, and can still be revoked (its
	// recorded position is right).
	for i, k := range keys {
		ch.send(k, reg.PackAnchor(hash32(fmt.Sprintf("limit root %d", i)), uint64(i+1)))
	}
	for len(keys) > 0 {
		i := len(keys) / 2
		ch.send(a.account, reg.PackRevokeKey(keys[i].addr))
		keys = slices.Delete(keys, i, i+1)
	}
	if got := call(ch, reg.PackKeysOf(a.addr), reg.UnpackKeysOf); len(got) != 0 {
		t.Errorf("keysOf after revoking all: got %v", got)
	}
}

func TestAnchor(t *testing.T) {
	a, b := newInstitution(t, "a"), newInstitution(t, "b")
	ka, kb, kRotated, kNew, outsider := newAccount(t, "ka"), newAccount(t, "kb"), newAccount(t, "k rotated"), newAccount(t, "k new"), newAccount(t, "outsider")
	ch := newRegistry(t, nil, []institution{a, b}, 1, ka, kb, kRotated, kNew, outsider)
	reg := ch.reg
	ch.send(a.account, reg.PackAuthorizeKey(ka.addr))
	ch.send(a.account, reg.PackAuthorizeKey(kRotated.addr))
	ch.send(b.account, reg.PackAuthorizeKey(kb.addr))

	anchorOf := func(root common.Hash) registry.AnchorOfOutput {
		return call(ch, reg.PackAnchorOf(root), reg.UnpackAnchorOf)
	}

	// Successful anchors, including both ends of the size range, are stored
	// with their member and block and announced by one event each.
	for _, tc := range []struct {
		name   string
		key    account
		member common.Address
		size   uint64
	}{
		{"size 1", ka, a.addr, 1},
		{"size 300", kb, b.addr, 300},
		{"largest size", ka, a.addr, math.MaxUint32},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := hash32("root " + tc.name)
			rcpt := ch.send(tc.key, reg.PackAnchor(root, tc.size))
			want := registry.AnchorOfOutput{Member: tc.member, BlockNumber: rcpt.BlockNumber.Uint64(), Size: tc.size}
			if got := anchorOf(root); got != want {
				t.Errorf("anchorOf: got %+v, want %+v", got, want)
			}
			evs := events(ch, rcpt, reg.UnpackAnchoredEvent)
			if len(evs) != 1 {
				t.Fatalf("got %d Anchored events, want 1", len(evs))
			}
			ev := evs[0]
			if ev.Root != root || ev.Member != tc.member || ev.Size != tc.size || ev.Raw.BlockNumber != want.BlockNumber {
				t.Errorf("Anchored: got root %x member %s size %d block %d, want %x %s %d %d",
					ev.Root, ev.Member, ev.Size, ev.Raw.BlockNumber, root, tc.member, tc.size, want.BlockNumber)
			}
		})
	}
	if got := anchorOf(hash32("never anchored")); got != (registry.AnchorOfOutput{}) {
		t.Errorf("anchorOf(unanchored): got %+v, want zero", got)
	}

	// A node that joins late rebuilds the index from the logs; the member is
	// indexed, so one member's anchors can be fetched alone.
	var all, ofB []string
	for _, ev := range events(ch, nil, reg.UnpackAnchoredEvent) {
		all = append(all, fmt.Sprintf("%x %s %d", ev.Root, ev.Member.Hex(), ev.Size))
	}
	for _, ev := range events(ch, nil, reg.UnpackAnchoredEvent, nil, []any{b.addr}) {
		ofB = append(ofB, fmt.Sprintf("%x %s %d", ev.Root, ev.Member.Hex(), ev.Size))
	}
	wantAll := []string{
		fmt.Sprintf("%x %s %d", hash32("root size 1"), a.addr.Hex(), 1),
		fmt.Sprintf("%x %s %d", hash32("root size 300"), b.addr.Hex(), 300),
		fmt.Sprintf("%x %s %d", hash32("root largest size"), a.addr.Hex(), uint64(math.MaxUint32)),
	}
	if !slices.Equal(all, wantAll) {
		t.Errorf("all Anchored events: got %q, want %q", all, wantAll)
	}
	if !slices.Equal(ofB, wantAll[1:2]) {
		t.Errorf("b's Anchored events: got %q, want %q", ofB, wantAll[1:2])
	}

	// Anchors made before a key is revoked, or its member removed, stay
	// valid; the key itself stops working.
	beforeRevoke, beforeRotate, beforeRemoval := hash32("before revoke"), hash32("before rotate"), hash32("before removal")
	revokeRcpt := ch.send(ka, reg.PackAnchor(beforeRevoke, 5))
	rotateRcpt := ch.send(kRotated, reg.PackAnchor(beforeRotate, 6))
	removalRcpt := ch.send(kb, reg.PackAnchor(beforeRemoval, 7))
	ch.send(a.account, reg.PackRevokeKey(ka.addr))
	ch.send(a.account, reg.PackRotateKey(kRotated.addr, kNew.addr))
	ch.send(a.account, reg.PackProposeRemoveMember(b.addr))

	dup := hash32("root size 1")
	for _, tc := range []struct {
		name string
		from account
		root common.Hash
		size uint64
		want any
	}{
		{"outsider", outsider, hash32("x"), 1, &registry.RegistryKeyNotAuthorized{Key: outsider.addr}},
		{"member without self-authorisation", a.account, hash32("x"), 1, &registry.RegistryKeyNotAuthorized{Key: a.addr}},
		{"revoked key", ka, hash32("x"), 1, &registry.RegistryKeyWasRevoked{Key: ka.addr}},
		{"rotated-out key", kRotated, hash32("x"), 1, &registry.RegistryKeyWasRevoked{Key: kRotated.addr}},
		{"key of removed member", kb, hash32("x"), 1, &registry.RegistryKeyOfRemovedMember{Key: kb.addr, Member: b.addr}},
		{"duplicate root", kNew, dup, 1, &registry.RegistryAlreadyAnchored{Root: dup}},
		{"duplicate root, other size", kNew, dup, 2, &registry.RegistryAlreadyAnchored{Root: dup}},
		{"size 0", kNew, hash32("x"), 0, &registry.RegistryInvalidSize{Size: 0}},
		{"size 2^32", kNew, hash32("x"), math.MaxUint32 + 1, &registry.RegistryInvalidSize{Size: math.MaxUint32 + 1}},
		{"size 2^64-1", kNew, hash32("x"), math.MaxUint64, &registry.RegistryInvalidSize{Size: math.MaxUint64}},
	} {
		t.Run(tc.name, func(t *testing.T) { ch.wantRevert(tc.from, reg.PackAnchor(tc.root, tc.size), tc.want) })
	}
	for _, tc := range []struct {
		name string
		root common.Hash
		want registry.AnchorOfOutput
	}{
		{"revoked key's anchor", beforeRevoke, registry.AnchorOfOutput{Member: a.addr, BlockNumber: revokeRcpt.BlockNumber.Uint64(), Size: 5}},
		{"rotated key's anchor", beforeRotate, registry.AnchorOfOutput{Member: a.addr, BlockNumber: rotateRcpt.BlockNumber.Uint64(), Size: 6}},
		{"removed member's anchor", beforeRemoval, registry.AnchorOfOutput{Member: b.addr, BlockNumber: removalRcpt.BlockNumber.Uint64(), Size: 7}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := anchorOf(tc.root); got != tc.want {
				t.Errorf("anchorOf: got %+v, want %+v", got, tc.want)
			}
		})
	}
	if got, want := call(ch, reg.PackKeyOf(kb.addr), reg.UnpackKeyOf), (registry.KeyOfOutput{Member: b.addr, State: keyDropped}); got != want {
		t.Errorf("keyOf(removed member's key): got %+v, want %+v", got, want)
	}
	// The new key of a rotation works.
	ch.send(kNew, reg.PackAnchor(hash32("after rotate"), 9))
	if got := anchorOf(hash32("after rotate")); got.Member != a.addr {
		t.Errorf("anchor by rotated-in key: got %+v, want member a", got)
	}
}

func TestStatusList(t *testing.T) {
	a, b := newInstitution(t, "a"), newInstitution(t, "b")
	ka, kb, outsider := newAccount(t, "ka"), newAccount(t, "kb"), newAccount(t, "outsider")
	ch := newRegistry(t, nil, []institution{a, b}, 1, ka, kb, outsider)
	reg := ch.reg
	ch.send(a.account, reg.PackAuthorizeKey(ka.addr))
	ch.send(b.account, reg.PackAuthorizeKey(kb.addr))

	list := hash32("list revocation")
	statusList := func(m institution) registry.StatusListOutput {
		return call(ch, reg.PackStatusList(m.addr, list), reg.UnpackStatusList)
	}
	if got := statusList(a); got != (registry.StatusListOutput{}) {
		t.Errorf("statusList before any anchor: got %+v, want zero", got)
	}
	for i, h := range []common.Hash{hash32("v1"), hash32("v2")} {
		rcpt := ch.send(ka, reg.PackAnchorStatusList(list, h))
		if got, want := statusList(a), (registry.StatusListOutput{Hash: h, BlockNumber: rcpt.BlockNumber.Uint64()}); got != want {
			t.Errorf("version %d: statusList: got %+v, want %+v", i+1, got, want)
		}
		evs := events(ch, rcpt, reg.UnpackStatusListAnchoredEvent)
		if len(evs) != 1 || evs[0].Member != a.addr || evs[0].ListId != list || evs[0].Hash != h {
			t.Errorf("version %d: StatusListAnchored: got %+v", i+1, evs)
		}
	}
	// Lists are per member: b's list of the same id is its own.
	ch.send(kb, reg.PackAnchorStatusList(list, hash32("b v1")))
	if got := statusList(a); got.Hash != hash32("v2") {
		t.Errorf("a's list after b anchored its own: got %x, want v2", got.Hash)
	}
	if got := statusList(b); got.Hash != hash32("b v1") {
		t.Errorf("b's list: got %x, want b v1", got.Hash)
	}

	ch.send(a.account, reg.PackRevokeKey(ka.addr))
	for _, tc := range []struct {
		name string
		from account
		hash common.Hash
		want any
	}{
		{"outsider", outsider, hash32("v3"), &registry.RegistryKeyNotAuthorized{Key: outsider.addr}},
		{"member address", a.account, hash32("v3"), &registry.RegistryKeyNotAuthorized{Key: a.addr}},
		{"revoked key", ka, hash32("v3"), &registry.RegistryKeyWasRevoked{Key: ka.addr}},
		{"zero hash", kb, common.Hash{}, &registry.RegistryZeroHash{}},
	} {
		t.Run(tc.name, func(t *testing.T) { ch.wantRevert(tc.from, reg.PackAnchorStatusList(list, tc.hash), tc.want) })
	}
	ch.send(a.account, reg.PackProposeRemoveMember(b.addr))
	ch.wantRevert(kb, reg.PackAnchorStatusList(list, hash32("b v2")), &registry.RegistryKeyOfRemovedMember{Key: kb.addr, Member: b.addr})
	if got := statusList(b); got.Hash != hash32("b v1") {
		t.Errorf("removed member's list: got %x, want b v1 kept", got.Hash)
	}
}
