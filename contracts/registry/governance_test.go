package registry_test

import (
	"reflect"
	"slices"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/credanchor/credanchor/contracts/registry"
)

// Proposal actions, as the contract's Action enum numbers them.
const (
	actionAddMember uint8 = iota
	actionRemoveMember
	actionSetThreshold
)

func TestConstructor(t *testing.T) {
	a, b, c := newInstitution(t, "a"), newInstitution(t, "b"), newInstitution(t, "c")
	noDID := b
	noDID.did = ""
	zero := a
	zero.addr = common.Address{}

	// Each bad deployment's revert.
	for _, tc := range []struct {
		name      string
		founders  []institution
		threshold uint64
		want      any
	}{
		{"no members", nil, 1, &registry.RegistryThresholdOutOfRange{Threshold: 1, MemberCount: 0}},
		{"zero threshold", []institution{a, b}, 0, &registry.RegistryThresholdOutOfRange{Threshold: 0, MemberCount: 2}},
		{"threshold above members", []institution{a, b}, 3, &registry.RegistryThresholdOutOfRange{Threshold: 3, MemberCount: 2}},
		{"duplicate member", []institution{a, b, a}, 1, &registry.RegistryAlreadyMember{Account: a.addr}},
		{"zero address", []institution{a, zero}, 1, &registry.RegistryZeroAddress{}},
		{"empty DID", []institution{a, noDID}, 1, &registry.RegistryEmptyDID{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ch := newChain(t, nil)
			_, err := ch.deploy(tc.founders, tc.threshold)
			if got := ch.revertOf(err); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %T%+v, want %T%+v", got, got, tc.want, tc.want)
			}
		})
	}

	t.Run("length mismatch", func(t *testing.T) {
		ch := newChain(t, nil)
		input := ch.reg.PackConstructor([]common.Address{a.addr, b.addr}, []string{a.did}, []string{a.name, b.name}, 1)
		_, _, err := bindDeploy(ch, input)
		if got, want := ch.revertOf(err), (&registry.RegistryLengthMismatch{}); !reflect.DeepEqual(got, want) {
			t.Errorf("got %T%+v, want %T%+v", got, got, want, want)
		}
	})

	t.Run("seeded", func(t *testing.T) {
		ch := newChain(t, nil, a.account, b.account, c.account)
		rcpt, err := ch.deploy([]institution{a, b, c}, 2)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := call(ch, ch.reg.PackGovernance(), ch.reg.UnpackGovernance),
			(registry.GovernanceOutput{Threshold: 2, MemberCount: 3, Epoch: 1}); got != want {
			t.Errorf("governance: got %+v, want %+v", got, want)
		}
		if got, want := call(ch, ch.reg.PackMembers(), ch.reg.UnpackMembers), []common.Address{a.addr, b.addr, c.addr}; !slices.Equal(got, want) {
			t.Errorf("members: got %v, want %v", got, want)
		}
		for _, m := range []institution{a, b, c} {
			got := call(ch, ch.reg.PackMemberInfo(m.addr), ch.reg.UnpackMemberInfo)
			if want := (registry.MemberInfoOutput{Did: m.did, Name: m.name, Active: true}); got != want {
				t.Errorf("memberInfo(%s): got %+v, want %+v", m.name, got, want)
			}
		}
		var added []string
		for _, ev := range events(ch, rcpt, ch.reg.UnpackMemberAddedEvent) {
			added = append(added, ev.Member.Hex()+" "+ev.Did+" "+ev.Name)
		}
		want := []string{a.addr.Hex() + " " + a.did + " a", b.addr.Hex() + " " + b.did + " b", c.addr.Hex() + " " + c.did + " c"}
		if !slices.Equal(added, want) {
			t.Errorf("MemberAdded events: got %q, want %q", added, want)
		}
		th := events(ch, rcpt, ch.reg.UnpackThresholdChangedEvent)
		if len(th) != 1 || th[0].OldThreshold != 0 || th[0].NewThreshold != 2 {
			t.Errorf("ThresholdChanged events: got %+v, want one 0 -> 2", th)
		}
	})
}

// TestGovernance walks proposals through a three-member consortium with a
// threshold of two, checking every governance revert on the way.
func TestGovernance(t *testing.T) {
	a, b, c := newInstitution(t, "a"), newInstitution(t, "b"), newInstitution(t, "c")
	d, outsider := newInstitution(t, "d"), newInstitution(t, "outsider")
	ch := newRegistry(t, nil, []institution{a, b, c}, 2, d.account, outsider.account)
	reg := ch.reg

	governance := func() registry.GovernanceOutput {
		return call(ch, reg.PackGovernance(), reg.UnpackGovernance)
	}
	proposal := func(id uint64) registry.ProposalOutput {
		return call(ch, reg.PackProposal(id), reg.UnpackProposal)
	}
	isMember := func(m institution) bool {
		return call(ch, reg.PackMemberInfo(m.addr), reg.UnpackMemberInfo).Active
	}

	// Outsiders can neither propose nor approve.
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"propose add", reg.PackProposeAddMember(d.addr, d.did, d.name)},
		{"propose remove", reg.PackProposeRemoveMember(c.addr)},
		{"propose threshold", reg.PackProposeThreshold(1)},
		{"approve", reg.PackApprove(1)},
	} {
		t.Run("outsider "+tc.name, func(t *testing.T) {
			ch.wantRevert(outsider.account, tc.data, &registry.RegistryNotMember{Account: outsider.addr})
		})
	}

	// Proposals that could never be valid are refused when made.
	for _, tc := range []struct {
		name string
		data []byte
		want any
	}{
		{"add zero address", reg.PackProposeAddMember(common.Address{}, d.did, d.name), &registry.RegistryZeroAddress{}},
		{"add existing member", reg.PackProposeAddMember(b.addr, b.did, b.name), &registry.RegistryAlreadyMember{Account: b.addr}},
		{"add without DID", reg.PackProposeAddMember(d.addr, "", d.name), &registry.RegistryEmptyDID{}},
		{"remove non-member", reg.PackProposeRemoveMember(d.addr), &registry.RegistryNotMember{Account: d.addr}},
		{"threshold zero", reg.PackProposeThreshold(0), &registry.RegistryThresholdOutOfRange{Threshold: 0, MemberCount: 3}},
		{"threshold above members", reg.PackProposeThreshold(4), &registry.RegistryThresholdOutOfRange{Threshold: 4, MemberCount: 3}},
		{"approve proposal 0", reg.PackApprove(0), &registry.RegistryUnknownProposal{Id: 0}},
		{"approve unknown proposal", reg.PackApprove(99), &registry.RegistryUnknownProposal{Id: 99}},
	} {
		t.Run(tc.name, func(t *testing.T) { ch.wantRevert(a.account, tc.data, tc.want) })
	}
	if got := callErr(ch, reg.PackProposal(1), reg.UnpackProposal); !reflect.DeepEqual(got, &registry.RegistryUnknownProposal{Id: 1}) {
		t.Errorf("proposal(1) before any: got %+v", got)
	}

	// Proposal 1: add d. One approval (the proposer's) is below threshold.
	rcpt := ch.send(a.account, reg.PackProposeAddMember(d.addr, d.did, d.name))
	created := events(ch, rcpt, reg.UnpackProposalCreatedEvent)
	if len(created) != 1 || created[0].Id != 1 || created[0].Proposer != a.addr ||
		created[0].Action != actionAddMember || created[0].Member != d.addr || created[0].Did != d.did || created[0].Name != d.name {
		t.Errorf("ProposalCreated: got %+v", created)
	}
	if got := len(events(ch, rcpt, reg.UnpackProposalExecutedEvent)); got != 0 {
		t.Errorf("proposal 1 executed with one approval (%d ProposalExecuted events)", got)
	}
	want := registry.ProposalOutput{Action: actionAddMember, Member: d.addr, Did: d.did, Name: d.name, Epoch: 1, Approvals: 1}
	if got := proposal(1); got != want {
		t.Errorf("proposal 1 after proposing: got %+v, want %+v", got, want)
	}
	if isMember(d) {
		t.Error("d is a member below threshold")
	}
	if !call(ch, reg.PackHasApproved(1, a.addr), reg.UnpackHasApproved) || call(ch, reg.PackHasApproved(1, b.addr), reg.UnpackHasApproved) {
		t.Error("hasApproved(1): want a only")
	}
	ch.wantRevert(a.account, reg.PackApprove(1), &registry.RegistryAlreadyApproved{Id: 1, Member: a.addr})

	// b's approval reaches the threshold and executes it.
	rcpt = ch.send(b.account, reg.PackApprove(1))
	if ev := events(ch, rcpt, reg.UnpackProposalApprovedEvent); len(ev) != 1 || ev[0].Member != b.addr || ev[0].Approvals != 2 {
		t.Errorf("ProposalApproved: got %+v", ev)
	}
	if ev := events(ch, rcpt, reg.UnpackProposalExecutedEvent); len(ev) != 1 || ev[0].Id != 1 || ev[0].Epoch != 2 {
		t.Errorf("ProposalExecuted: got %+v", ev)
	}
	if ev := events(ch, rcpt, reg.UnpackMemberAddedEvent); len(ev) != 1 || ev[0].Member != d.addr || ev[0].Did != d.did {
		t.Errorf("MemberAdded: got %+v", ev)
	}
	if !isMember(d) {
		t.Error("d is not a member after the threshold was reached")
	}
	if got, want := governance(), (registry.GovernanceOutput{Threshold: 2, MemberCount: 4, Epoch: 2, ProposalCount: 1}); got != want {
		t.Errorf("governance: got %+v, want %+v", got, want)
	}
	ch.wantRevert(c.account, reg.PackApprove(1), &registry.RegistryProposalClosed{Id: 1})

	// Proposals 2 (threshold 3) and 3 (remove c) are open together; executing
	// 3 makes 2 stale, and c, removed, can no longer take part.
	ch.send(a.account, reg.PackProposeThreshold(3))
	ch.send(b.account, reg.PackProposeRemoveMember(c.addr))
	rcpt = ch.send(d.account, reg.PackApprove(3))
	if ev := events(ch, rcpt, reg.UnpackMemberRemovedEvent); len(ev) != 1 || ev[0].Member != c.addr {
		t.Errorf("MemberRemoved: got %+v", ev)
	}
	if isMember(c) {
		t.Error("c is still a member")
	}
	if got := call(ch, reg.PackMemberInfo(c.addr), reg.UnpackMemberInfo); got.Did != c.did || got.Name != c.name {
		t.Errorf("removed member's record: got %+v, want DID and name kept", got)
	}
	ch.wantRevert(d.account, reg.PackApprove(2), &registry.RegistryProposalStale{Id: 2})
	ch.wantRevert(c.account, reg.PackProposeThreshold(1), &registry.RegistryNotMember{Account: c.addr})
	ch.wantRevert(c.account, reg.PackApprove(3), &registry.RegistryNotMember{Account: c.addr})
	if got, want := call(ch, reg.PackMembers(), reg.UnpackMembers), []common.Address{a.addr, b.addr, d.addr}; !slices.Equal(got, want) {
		t.Errorf("members: got %v, want %v", got, want)
	}

	// Threshold 3 of 3 members; then no member can be removed until it drops.
	ch.send(a.account, reg.PackProposeThreshold(3))
	rcpt = ch.send(b.account, reg.PackApprove(4))
	if ev := events(ch, rcpt, reg.UnpackThresholdChangedEvent); len(ev) != 1 || ev[0].OldThreshold != 2 || ev[0].NewThreshold != 3 {
		t.Errorf("ThresholdChanged: got %+v", ev)
	}
	ch.wantRevert(a.account, reg.PackProposeRemoveMember(d.addr), &registry.RegistryThresholdOutOfRange{Threshold: 3, MemberCount: 2})

	// Back to 1 of 3 (three approvals); from then on a proposal executes as
	// soon as it is made.
	ch.send(a.account, reg.PackProposeThreshold(1))
	ch.send(b.account, reg.PackApprove(5))
	if got := proposal(5); got.Executed || got.Approvals != 2 {
		t.Errorf("proposal 5 with 2 of 3 approvals: got %+v, want open", got)
	}
	ch.send(d.account, reg.PackApprove(5))
	if got := proposal(5); !got.Executed || got.Approvals != 3 {
		t.Errorf("proposal 5 with 3 of 3 approvals: got %+v, want executed", got)
	}
	ch.send(d.account, reg.PackProposeRemoveMember(b.addr))
	if isMember(b) {
		t.Error("threshold 1: remove proposal did not execute at once")
	}
	// c comes back, with a new DID.
	c2 := c
	c2.did = "did:web:c.example:v2"
	ch.send(a.account, reg.PackProposeAddMember(c2.addr, c2.did, c2.name))
	if got := call(ch, reg.PackMemberInfo(c.addr), reg.UnpackMemberInfo); !got.Active || got.Did != c2.did {
		t.Errorf("re-added member: got %+v", got)
	}
	if got, want := call(ch, reg.PackMembers(), reg.UnpackMembers), []common.Address{a.addr, c.addr, d.addr}; !slices.Equal(got, want) {
		t.Errorf("members: got %v, want %v", got, want)
	}
	if got, want := governance(), (registry.GovernanceOutput{Threshold: 1, MemberCount: 3, Epoch: 7, ProposalCount: 7}); got != want {
		t.Errorf("governance: got %+v, want %+v", got, want)
	}
	// The last member cannot be removed: the threshold would exceed 0 members.
	ch.send(a.account, reg.PackProposeRemoveMember(c.addr))
	ch.send(a.account, reg.PackProposeRemoveMember(d.addr))
	ch.wantRevert(a.account, reg.PackProposeRemoveMember(a.addr), &registry.RegistryThresholdOutOfRange{Threshold: 1, MemberCount: 0})
}
