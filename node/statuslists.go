package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/credanchor/credanchor/anchor"
	"github.com/credanchor/credanchor/anchor/merkle"
	"github.com/credanchor/credanchor/node/credential"
	"github.com/credanchor/credanchor/node/dataintegrity"
	"github.com/credanchor/credanchor/node/statuslist"
	"github.com/credanchor/credanchor/node/vc"
	"github.com/credanchor/credanchor/store"
)

// Status list defaults.
const (
	// DefaultStatusPublishInterval is how often the node publishes the
	// status lists that changed.
	DefaultStatusPublishInterval = 10 * time.Second
	// StatusListPath is where a node serves its status list credentials,
	// under its PublicURL.
	StatusListPath = "/v1/status-lists/"
	// maxStatusReason bounds the reason recorded with a status change.
	maxStatusReason = store.MaxStatusReasonLen
)

// Status actions, as the API names them.
const (
	ActionRevoke    = "revoke"
	ActionSuspend   = "suspend"
	ActionUnsuspend = "unsuspend"
)

var (
	// ErrNoStatus: the credential has no status kept by this node (it did
	// not issue it, or issued it without status lists).
	ErrNoStatus = errors.New("node: the credential has no status kept by this node")
	// ErrRevocationFinal: a revoked credential stays revoked.
	ErrRevocationFinal = store.ErrRevocationFinal
	// ErrUnknownAction: not revoke, suspend or unsuspend.
	ErrUnknownAction = errors.New("node: unknown status action")
	// ErrInvalidStatusChange: a status change the node cannot record (a
	// reason too long).
	ErrInvalidStatusChange = store.ErrInvalidStatusChange
)

// EntryState is one status entry of a credential this node issued.
type EntryState struct {
	Purpose              string `json:"purpose"`
	StatusListCredential string `json:"statusListCredential"`
	ListID               string `json:"listId"`
	Index                uint64 `json:"index"`
	// Set is the entry's bit now: revoked or suspended.
	Set bool `json:"set"`
	// Pending: the latest change is not in an anchored version of the list
	// yet, so verifiers do not see it.
	Pending bool `json:"pending"`
}

// statusListURL is the URL of a status list credential of this node.
func (n *Node) statusListURL(id string) string {
	return strings.TrimRight(n.cfg.PublicURL, "/") + StatusListPath + id
}

// keepsStatus reports whether the node gives credentials status entries.
func (n *Node) keepsStatus() bool { return n.cfg.PublicURL != "" && n.cfg.Issuer != nil }

// allocateStatus gives a credential about to be issued an entry in a
// revocation and a suspension list, added to its credentialStatus.
func (n *Node) allocateStatus(doc []byte) ([]byte, []store.StatusEntry, error) {
	var obj map[string]any
	if err := json.Unmarshal(doc, &obj); err != nil {
		return nil, nil, err
	}
	if isV1(obj) {
		// BitstringStatusListEntry is a VC 2.0 term.
		return doc, nil, nil
	}
	es, err := n.st.AllocateStatus(store.PurposeRevocation, store.PurposeSuspension)
	if err != nil {
		return nil, nil, err
	}
	for _, e := range es {
		// A list's first version must be out before its credentials can
		// verify: publish a new list at once, not at the next interval.
		if l, err := n.st.StatusList(e.ListID); err == nil && l.Version == 0 {
			n.kickPublisher(n.publishNow)
		}
	}
	var status []any
	switch v := obj["credentialStatus"].(type) {
	case nil:
	case []any:
		status = v
	default:
		status = []any{v}
	}
	for _, e := range es {
		url := n.statusListURL(e.ListID)
		idx := strconv.FormatUint(e.Index, 10)
		status = append(status, map[string]any{
			"id":                   url + "#" + idx,
			"type":                 statuslist.EntryType,
			"statusPurpose":        e.Purpose,
			"statusListIndex":      idx,
			"statusListCredential": url,
		})
	}
	obj["credentialStatus"] = status
	out, err := json.Marshal(obj)
	return out, es, err
}

// ChangeStatus revokes, suspends or unsuspends a credential this node
// issued, durably, with the reason recorded. The change reaches verifiers
// with the next anchored version of the list; until then the entry is
// Pending. Changing a status to what it is already is no change.
func (n *Node) ChangeStatus(digest merkle.Hash, action, reason string) ([]EntryState, error) {
	purpose, value := "", false
	switch action {
	case ActionRevoke:
		purpose, value = PurposeRevocation, true
	case ActionSuspend:
		purpose, value = PurposeSuspension, true
	case ActionUnsuspend:
		purpose = PurposeSuspension
	default:
		return nil, fmt.Errorf("%w: %q", ErrUnknownAction, action)
	}
	if len(reason) > maxStatusReason {
		return nil, fmt.Errorf("%w: reason over %d bytes", ErrInvalidStatusChange, maxStatusReason)
	}
	es, err := n.st.StatusEntries(digest)
	if err != nil {
		return nil, err
	}
	found, changed := false, false
	for _, e := range es {
		if e.Purpose != purpose {
			continue
		}
		found = true
		_, err := n.st.SetStatus(e.ListID, e.Index, value, store.StatusUpdate{Digest: digest, Action: store.StatusAction(action), Reason: reason, At: time.Now()})
		if err != nil && !errors.Is(err, store.ErrStatusUnchanged) {
			return nil, err
		}
		if err == nil {
			changed = true
			n.log.Info("status changed", slog.String("digest", digest.String()), slog.String("action", action), slog.String("list", e.ListID))
		}
	}
	if !found {
		return nil, ErrNoStatus
	}
	if changed {
		// Once per credential, whatever its number of entries of the
		// purpose.
		n.countStatus(action)
	}
	n.kickPublisher(n.publish)
	return n.StatusOf(digest)
}

// StatusOf returns the status entries of a credential this node issued;
// none for any other.
func (n *Node) StatusOf(digest merkle.Hash) ([]EntryState, error) {
	es, err := n.st.StatusEntries(digest)
	if err != nil || len(es) == 0 {
		return nil, err
	}
	changes, err := n.st.StatusChanges(digest)
	if err != nil {
		return nil, err
	}
	out := make([]EntryState, 0, len(es))
	for _, e := range es {
		st := EntryState{Purpose: e.Purpose, ListID: e.ListID, Index: e.Index, StatusListCredential: n.statusListURL(e.ListID)}
		if st.Set, err = n.st.StatusBit(e.ListID, e.Index); err != nil {
			return nil, err
		}
		var last uint64
		for _, c := range changes {
			if c.ListID == e.ListID && c.Index == e.Index {
				last = max(last, c.Seq)
			}
		}
		if last > 0 {
			covered := uint64(0)
			if v, err := n.st.LatestAnchoredStatusVersion(e.ListID); err == nil {
				covered = v.Seq
			} else if !errors.Is(err, store.ErrNotFound) {
				return nil, err
			}
			st.Pending = last > covered
		}
		out = append(out, st)
	}
	return out, nil
}

// StatusListCredential returns the signed status list credential of list
// id: its latest anchored version, or version when it is not zero.
func (n *Node) StatusListCredential(id string, version uint64) (*store.StatusVersion, error) {
	var (
		v   *store.StatusVersion
		err error
	)
	if version == 0 {
		v, err = n.st.LatestAnchoredStatusVersion(id)
	} else {
		v, err = n.st.StatusVersion(id, version)
	}
	switch {
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrUnknownStatusList), errors.Is(err, store.ErrInvalidStatusVersion):
		return nil, fmt.Errorf("%w: status list %s version %d", ErrNotFound, id, version)
	case err != nil:
		return nil, err
	case v.State != store.StatusVersionAnchored && v.State != store.StatusVersionReplaced || v.BlockNumber == 0:
		// Only what was anchored is served: anything else no verifier
		// could trust.
		return nil, fmt.Errorf("%w: status list %s version %d is not anchored", ErrNotFound, id, v.Version)
	}
	return v, nil
}

// maxVersionsByHash bounds how far back StatusListByHash looks.
const maxVersionsByHash = 64

// StatusListByHash returns the version of list id whose hash is hash,
// among the latest ones, anchored or on its way: a verifier that read the
// hash from the chain asks for it, and the chain vouches for it.
func (n *Node) StatusListByHash(id string, hash [32]byte) (*store.StatusVersion, error) {
	latest, err := n.st.LatestStatusVersion(id)
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrUnknownStatusList) || errors.Is(err, store.ErrInvalidStatusVersion) {
		return nil, fmt.Errorf("%w: status list %s", ErrNotFound, id)
	}
	if err != nil {
		return nil, err
	}
	for v := latest.Version; v > 0 && latest.Version-v < maxVersionsByHash; v-- {
		sv, err := n.st.StatusVersion(id, v)
		if err != nil {
			return nil, err
		}
		if sv.Hash == hash && sv.State != store.StatusVersionFailed {
			return sv, nil
		}
	}
	return nil, fmt.Errorf("%w: status list %s has no recent version %x", ErrNotFound, id, hash)
}

// localStatusList serves the node's own anchored lists to its verifier
// without a round trip through HTTP, and other members' lists the
// consortium announced.
func (n *Node) localStatusList(_ context.Context, url string) ([]byte, bool, error) {
	prefix := strings.TrimRight(n.cfg.PublicURL, "/") + StatusListPath
	rest, ok := strings.CutPrefix(url, prefix)
	if n.cfg.PublicURL == "" || !ok {
		// Another member's list, as the consortium announced it.
		if n.consortium != nil {
			if d, ok := n.consortium.list(url); ok {
				return d, true, nil
			}
		}
		return nil, false, nil
	}
	id, query, _ := strings.Cut(rest, "?")
	var (
		v   *store.StatusVersion
		err error
	)
	if h, ok := strings.CutPrefix(query, "hash="); ok {
		hash, perr := merkle.ParseHash(h)
		if perr != nil {
			return nil, false, perr
		}
		v, err = n.StatusListByHash(id, hash)
	} else {
		v, err = n.StatusListCredential(id, 0)
	}
	if err != nil {
		return nil, false, err
	}
	return v.Credential, true, nil
}

func (n *Node) kickPublisher(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// runPublisher publishes changed status lists every interval, and at once
// after a change when the last publication is an interval old.
func (n *Node) runPublisher(ctx context.Context) {
	interval := n.cfg.StatusPublishInterval
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := n.PublishStatusLists(ctx); err != nil && ctx.Err() == nil {
			n.log.Warn("publishing status lists", slog.Any("error", err))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-n.publishNow:
		case <-n.publish:
			// A change waits for the interval, so that a burst of changes
			// makes one version, not one each.
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			case <-n.publishNow:
			}
		}
	}
}

// PublishStatusLists makes, signs and anchors a new version of every status
// list that changed since its latest version, and finishes anchoring
// versions a restart interrupted. Run calls it every
// StatusPublishInterval; tests call it to publish at once.
func (n *Node) PublishStatusLists(ctx context.Context) error {
	n.publishMu.Lock()
	defer n.publishMu.Unlock()
	if !n.keepsStatus() {
		return nil
	}
	lists, err := n.st.StatusLists()
	if err != nil {
		return err
	}
	dirty, err := n.st.DirtyStatusLists()
	if err != nil {
		return err
	}
	isDirty := make(map[string]bool, len(dirty))
	for _, l := range dirty {
		isDirty[l.ID] = true
	}
	var errs []error
	for _, l := range lists {
		if !n.statusRechecked {
			if err := n.recheckStatusAnchor(ctx, l); err != nil {
				errs = append(errs, fmt.Errorf("status list %s: %w", l.ID, err))
				continue
			}
		}
		if err := n.publishList(ctx, l, isDirty[l.ID]); err != nil {
			errs = append(errs, fmt.Errorf("status list %s: %w", l.ID, err))
		}
	}
	if len(errs) == 0 {
		n.statusRechecked = true
	}
	return errors.Join(errs...)
}

// recheckStatusAnchor anchors again, once after a start, the latest
// anchored version of a list if the chain no longer holds it: a crash of a
// dev chain, or a reorg, can lose the newest blocks.
func (n *Node) recheckStatusAnchor(ctx context.Context, l *store.StatusList) error {
	if l.AnchoredVersion == 0 {
		return nil
	}
	v, err := n.st.StatusVersion(l.ID, l.AnchoredVersion)
	if err != nil {
		return err
	}
	listID := StatusListID(n.statusListURL(l.ID))
	member, err := n.anchorer.Member(ctx)
	if err != nil {
		return err
	}
	got, err := anchor.StatusList(ctx, n.cfg.Chain, n.cfg.Registry, member, listID)
	if err == nil && got.Hash == v.Hash {
		return nil
	}
	if err != nil && !errors.Is(err, anchor.ErrStatusListNotAnchored) {
		return err
	}
	n.log.Warn("status list anchor missing on chain: anchoring it again", slog.String("list", l.ID), slog.Uint64("version", v.Version))
	a, err := n.anchorer.AnchorStatusList(ctx, listID, v.Hash, n.markAnchored(l.ID, v.Version))
	if err != nil {
		return err
	}
	n.countStatusGas(a.GasUsed)
	return nil
}

// markAnchored records a version anchored the moment its transaction is
// mined: from then on verifiers reading the chain expect it.
func (n *Node) markAnchored(id string, version uint64) func(*anchor.StatusListAnchor) error {
	return func(a *anchor.StatusListAnchor) error {
		return n.st.MarkStatusVersionAnchored(id, version, a.TxHash, a.BlockNumber)
	}
}

func (n *Node) publishList(ctx context.Context, l *store.StatusList, dirty bool) error {
	var v *store.StatusVersion
	latest, err := n.st.LatestStatusVersion(l.ID)
	switch {
	case err == nil && latest.State == store.StatusVersionPending && !dirty:
		v = latest // interrupted by a restart: anchor it now
	case err == nil || errors.Is(err, store.ErrNotFound):
		if !dirty {
			return nil
		}
		if v, err = n.newStatusVersion(l); err != nil {
			return err
		}
	default:
		return err
	}
	start := time.Now()
	a, err := n.anchorer.AnchorStatusList(ctx, StatusListID(n.statusListURL(l.ID)), v.Hash, n.markAnchored(l.ID, v.Version))
	if err != nil {
		return err
	}
	n.announceStatusList(ctx, l.ID, v.Version, v.Hash)
	n.metrics.statusPublished.Inc()
	n.countStatusGas(a.GasUsed)
	n.log.Info("status list published", slog.String("list", l.ID), slog.Uint64("version", v.Version),
		slog.Uint64("block", a.BlockNumber), slog.Uint64("gas", a.GasUsed), slog.Duration("took", time.Since(start)))
	return nil
}

// newStatusVersion signs the list as it is now and stores it as the next
// version, to be anchored.
func (n *Node) newStatusVersion(l *store.StatusList) (*store.StatusVersion, error) {
	bits, seq, err := n.st.StatusBits(l.ID)
	if err != nil {
		return nil, err
	}
	doc, err := n.statusListDocument(l, bits, time.Now())
	if err != nil {
		return nil, err
	}
	id := n.cfg.Issuer
	signed, err := dataintegrity.SignRDFC(doc, id.Key, dataintegrity.Options{VerificationMethod: id.VerificationMethod})
	if err != nil {
		return nil, fmt.Errorf("node: sign status list: %w", err)
	}
	hash, err := credential.Digest(signed, credential.FormJSON)
	if err != nil {
		return nil, err
	}
	return n.st.PutStatusVersion(l.ID, seq, signed, hash)
}

// statusListDocument is the unsigned BitstringStatusListCredential of a
// list. Its ttl tells verifiers how long to cache it: one publication
// interval, after which a change may be out.
func (n *Node) statusListDocument(l *store.StatusList, bits []byte, now time.Time) ([]byte, error) {
	encoded, err := statuslist.FromBits(bits).Encode()
	if err != nil {
		return nil, err
	}
	url := n.statusListURL(l.ID)
	id := n.cfg.Issuer
	return json.Marshal(map[string]any{
		"@context":  []string{vc.ContextV2},
		"id":        url,
		"type":      []string{"VerifiableCredential", "BitstringStatusListCredential"},
		"issuer":    map[string]any{"id": id.DID, "name": id.Name},
		"validFrom": now.UTC().Format(time.RFC3339),
		"credentialSubject": map[string]any{
			"id":            url + "#list",
			"type":          "BitstringStatusList",
			"statusPurpose": l.Purpose,
			"encodedList":   encoded,
			"ttl":           n.cfg.StatusPublishInterval.Milliseconds(),
		},
	})
}
