package node

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/credanchor/credanchor/anchor"
	"github.com/credanchor/credanchor/node/credential"
	"github.com/credanchor/credanchor/node/statuslist"
	"github.com/credanchor/credanchor/node/vc"
	"github.com/credanchor/credanchor/node/vcjwt"
	"github.com/credanchor/credanchor/node/webfetch"
)

// CheckStatus: every status entry of the credential was read from a status
// list that verified (and, for a consortium member's credential, is the
// latest version the member anchored), and none says revoked or suspended.
// It is made only for a credential that has a credentialStatus.
const CheckStatus = "status"

// Status error codes of the Bitstring Status List specification.
const (
	CodeStatusRetrieval    = "STATUS_RETRIEVAL_ERROR"
	CodeStatusVerification = "STATUS_VERIFICATION_ERROR"
	CodeStatusListLength   = "STATUS_LIST_LENGTH_ERROR"
)

// Anchor states of a status list, as StatusResult reports them.
const (
	// ListAnchored: the list's hash is the latest its member anchored.
	ListAnchored = "anchored"
	// ListNotAnchored: the credential is not a consortium member's, or its
	// member anchored no version of the list; nothing vouches for the list
	// but its own proof.
	ListNotAnchored = "not anchored"
)

// Purposes of status entries this node keeps and that fail a credential
// when set.
const (
	PurposeRevocation = "revocation"
	PurposeSuspension = "suspension"
)

// StatusResult is what one status entry says: {status, purpose, valid} of
// the specification, with where it was read.
type StatusResult struct {
	Purpose              string `json:"purpose"`
	Index                uint64 `json:"index"`
	StatusListCredential string `json:"statusListCredential"`
	// Status is the entry's bit.
	Status int `json:"status"`
	// Valid: the list was fetched, verified and holds the index.
	Valid bool `json:"valid"`
	// Anchor is ListAnchored or ListNotAnchored.
	Anchor string `json:"anchor,omitempty"`
	// Version is the list credential's hash (SHA-256 of its JCS form).
	Version string `json:"version,omitempty"`
	Error   string `json:"error,omitempty"`
}

// StatusConfig configures a StatusChecker. The zero value fetches lists
// from public addresses, caches them for DefaultStatusCacheTTL and
// requires the specification's minimum length.
type StatusConfig struct {
	// Fetch configures the fetcher of status list credentials.
	Fetch webfetch.Config
	// MinBits is the shortest list accepted. Zero means
	// statuslist.DefaultMinBits; lists issued before the minimum existed
	// may need less.
	MinBits uint64
	// CacheTTL is how long a fetched list is reused (never past its
	// validUntil or ttl). Zero means DefaultStatusCacheTTL; negative means
	// no cache. An anchored list is re-read whenever the chain names
	// another version, whatever the cache says.
	CacheTTL time.Duration
	// Local, when set, is asked for a list before the network: the node's
	// own lists, or a file a learner saved. ok false means "not here".
	Local func(ctx context.Context, url string) (data []byte, ok bool, err error)
	// AnchorCacheTTL is how long the registry's answer for a list is
	// reused. Zero means DefaultAnchorCacheTTL; negative means ask every
	// time. It bounds how late a verifier sees a new version, on top of
	// the issuer's publication interval.
	AnchorCacheTTL time.Duration
}

// DefaultAnchorCacheTTL is how long a status list anchor read from the
// registry is reused: a second, against publication intervals of seconds to
// minutes, so that a busy verifier makes one chain call a second per list
// rather than one per credential.
const DefaultAnchorCacheTTL = time.Second

// DefaultStatusCacheTTL is how long a fetched status list is reused.
const DefaultStatusCacheTTL = time.Minute

// maxStatusEntries bounds the entries of one credential that are checked.
const maxStatusEntries = 8

// maxCachedLists bounds the status list cache.
const maxCachedLists = 1024

// StatusChecker reads and checks status lists. It is safe for concurrent
// use.
type StatusChecker struct {
	cfg   StatusConfig
	fetch *webfetch.Fetcher

	mu      sync.Mutex
	cache   map[string]*statusList // by URL
	anchors map[anchorKey]anchorEntry
}

type anchorKey struct {
	member common.Address
	list   [32]byte
}

// anchorEntry is a cached registry answer: the hash, or none anchored.
type anchorEntry struct {
	hash    [32]byte
	none    bool
	expires time.Time
}

// statusList is a verified status list credential.
type statusList struct {
	hash     [32]byte
	issuer   string
	purposes []string
	bits     *statuslist.List
	expires  time.Time // when the cache must drop it
	until    time.Time // validUntil, zero if none
}

// NewStatusChecker returns a StatusChecker.
func NewStatusChecker(cfg StatusConfig) (*StatusChecker, error) {
	f, err := webfetch.New(cfg.Fetch)
	if err != nil {
		return nil, err
	}
	if cfg.MinBits == 0 {
		cfg.MinBits = statuslist.DefaultMinBits
	}
	if cfg.CacheTTL == 0 {
		cfg.CacheTTL = DefaultStatusCacheTTL
	}
	if cfg.AnchorCacheTTL == 0 {
		cfg.AnchorCacheTTL = DefaultAnchorCacheTTL
	}
	return &StatusChecker{cfg: cfg, fetch: f, cache: make(map[string]*statusList), anchors: make(map[anchorKey]anchorEntry)}, nil
}

// withLists returns a checker that reads the lists given, by id, before
// any other source: those a presentation carries. They are trusted no more
// than fetched ones: each is verified, and checked against its anchor.
func (sc *StatusChecker) withLists(lists map[string][]byte) *StatusChecker {
	cfg := sc.cfg
	next := sc.cfg.Local
	cfg.Local = func(ctx context.Context, url string) ([]byte, bool, error) {
		// Not for a node's ?hash= form of the URL: that is asked for when
		// the list given is not the one anchored, and only its node has
		// the one that is.
		if data, ok := lists[url]; ok {
			return data, true, nil
		}
		if next != nil {
			return next(ctx, url)
		}
		return nil, false, nil
	}
	return &StatusChecker{cfg: cfg, fetch: sc.fetch, cache: make(map[string]*statusList), anchors: make(map[anchorKey]anchorEntry)}
}

var defaultStatus = sync.OnceValues(func() (*StatusChecker, error) { return NewStatusChecker(StatusConfig{}) })

// statusEntries reads a credential's credentialStatus: its Bitstring Status
// List entries, and the types of entries of other kinds.
func statusEntries(data []byte, form credential.Form) (entries []statuslist.Entry, other []string, has bool, err error) {
	credJSON := data
	if form == credential.FormJWT {
		tok, err := vcjwt.Parse(strings.TrimSpace(string(data)))
		if err != nil {
			return nil, nil, false, err
		}
		if credJSON, err = tok.Credential(); err != nil {
			return nil, nil, false, err
		}
	}
	var top struct {
		CredentialStatus json.RawMessage `json:"credentialStatus"`
	}
	if err := json.Unmarshal(credJSON, &top); err != nil {
		return nil, nil, false, err
	}
	if len(top.CredentialStatus) == 0 || bytes.Equal(top.CredentialStatus, []byte("null")) {
		return nil, nil, false, nil
	}
	entries, err = statuslist.ParseEntries(top.CredentialStatus)
	if err != nil {
		return nil, nil, true, err
	}
	var all []struct {
		Type any `json:"type"`
	}
	if t := bytes.TrimSpace(top.CredentialStatus); len(t) > 0 && t[0] == '{' {
		all = make([]struct {
			Type any `json:"type"`
		}, 1)
		_ = json.Unmarshal(t, &all[0])
	} else {
		_ = json.Unmarshal(t, &all)
	}
	for _, e := range all {
		if s, ok := e.Type.(string); !ok || s != statuslist.EntryType {
			other = append(other, fmt.Sprint(e.Type))
		}
	}
	return entries, other, true, nil
}

// parsedStatusEntries is statusEntries for a credential that c, its
// decoded object, may answer for (nil if it did not parse): decoding the
// document twice more was a tenth of a verification's cost. What the
// object cannot answer exactly as statusEntries would, it leaves to
// statusEntries.
func parsedStatusEntries(c *vc.Credential, data []byte, form credential.Form) (entries []statuslist.Entry, other []string, has bool, err error) {
	if c != nil {
		if entries, other, has, ok := objectStatusEntries(c.Object()); ok {
			return entries, other, has, nil
		}
	}
	return statusEntries(data, form)
}

// statusEntryFields are the keys json.Unmarshal fills in a
// statuslist.Entry.
var statusEntryFields = [...]string{"id", "type", "statusPurpose", "statusListIndex", "statusListCredential"}

// objectStatusEntries reads the credentialStatus of a decoded credential
// as statusEntries reads its text, and reports whether it could (ok). It
// leaves to statusEntries what json.Unmarshal reads in ways a decoded
// object does not show (keys that name a field only case-insensitively,
// which json.Unmarshal matches too; values that are not strings or null;
// entries that are not objects) and every malformed entry, for its error.
func objectStatusEntries(obj map[string]any) (entries []statuslist.Entry, other []string, has, ok bool) {
	var status any
	for k, v := range obj {
		switch {
		case k == "credentialStatus":
			status = v
		case strings.EqualFold(k, "credentialStatus"):
			return nil, nil, false, false
		}
	}
	var items []any
	switch s := status.(type) {
	case nil:
		return nil, nil, false, true
	case []any:
		items = s
	case map[string]any:
		items = []any{s}
	default:
		return nil, nil, false, false
	}
	for _, item := range items {
		var e statuslist.Entry
		var typ any
		if item != nil {
			m, isObject := item.(map[string]any)
			if !isObject {
				return nil, nil, false, false
			}
			for k, v := range m {
				var field *string
				switch k {
				case "id":
					field = &e.ID
				case "type":
					field, typ = &e.Type, v
				case "statusPurpose":
					field = &e.StatusPurpose
				case "statusListIndex":
					field = &e.StatusListIndex
				case "statusListCredential":
					field = &e.StatusListCredential
				default:
					for _, f := range statusEntryFields {
						if strings.EqualFold(k, f) {
							return nil, nil, false, false
						}
					}
					continue
				}
				switch v := v.(type) {
				case string:
					*field = v
				case nil:
				default:
					return nil, nil, false, false
				}
			}
		}
		if e.Type == statuslist.EntryType {
			if _, err := e.Index(); err != nil || e.StatusPurpose == "" || e.StatusListCredential == "" {
				return nil, nil, false, false
			}
			entries = append(entries, e)
		}
		if s, isString := typ.(string); !isString || s != statuslist.EntryType {
			other = append(other, fmt.Sprint(typ))
		}
	}
	return entries, other, true, true
}

// statusCheck adds the status check of a credential that has a
// credentialStatus. member is the consortium member that anchored it and
// signed it (zero if none), whose anchors of its lists are then required.
// c is the credential as checkCredential decoded it (nil if it did not).
func (v *Verification) statusCheck(ctx context.Context, sc *StatusChecker, keys *DIDKeys, chain anchor.ChainReader, registryAddr common.Address, c *vc.Credential, data []byte, form credential.Form, member common.Address, now time.Time) error {
	entries, other, has, err := parsedStatusEntries(c, data, form)
	if !has {
		return nil
	}
	if err != nil {
		v.fail(CheckStatus, vc.CodeMalformedValue+": credentialStatus: "+err.Error())
		return nil
	}
	if len(entries) > maxStatusEntries {
		v.fail(CheckStatus, fmt.Sprintf("%s: %d status entries, more than %d", vc.CodeMalformedValue, len(entries), maxStatusEntries))
		return nil
	}
	var bad, set, notes []string
	for _, e := range entries {
		r, err := sc.check(ctx, keys, chain, registryAddr, e, v.Issuer, member, now)
		if err != nil {
			return err
		}
		v.Status = append(v.Status, r)
		switch {
		case !r.Valid:
			bad = append(bad, r.Error)
		case r.Status != 0 && (r.Purpose == PurposeRevocation || r.Purpose == PurposeSuspension):
			set = append(set, statusWord(r.Purpose))
		case r.Anchor == ListNotAnchored:
			notes = append(notes, r.Purpose+" list not anchored")
		}
	}
	for _, t := range other {
		notes = append(notes, "status of type "+t+" not checked")
	}
	switch {
	case len(bad) > 0:
		v.fail(CheckStatus, strings.Join(bad, "; "))
	case len(set) > 0:
		v.fail(CheckStatus, strings.Join(set, " and "))
	default:
		detail := "not revoked or suspended"
		if len(entries) == 0 {
			detail = "no status this node can check"
		}
		if len(notes) > 0 {
			detail += " (" + strings.Join(notes, "; ") + ")"
		}
		v.pass(CheckStatus, detail)
	}
	return nil
}

func statusWord(purpose string) string {
	switch purpose {
	case PurposeRevocation:
		return "revoked"
	case PurposeSuspension:
		return "suspended"
	}
	return purpose
}

// StatusListID is the registry's id of the status list credential at url:
// its SHA-256, so that a verifier finds the anchor from the credential's
// statusListCredential alone.
func StatusListID(url string) [32]byte { return sha256.Sum256([]byte(url)) }

// check reads one entry. Only a failure to reach the chain is an error;
// what is wrong with the list is in the result.
func (sc *StatusChecker) check(ctx context.Context, keys *DIDKeys, chain anchor.ChainReader, registryAddr common.Address, e statuslist.Entry, issuer string, member common.Address, now time.Time) (StatusResult, error) {
	r := StatusResult{Purpose: e.StatusPurpose, StatusListCredential: e.StatusListCredential}
	idx, _ := e.Index() // ParseEntries checked it
	r.Index = idx
	var want *[32]byte
	if member != (common.Address{}) {
		h, ok, err := sc.anchorOf(ctx, chain, registryAddr, member, StatusListID(e.StatusListCredential), now)
		if err != nil {
			return r, err
		}
		if ok {
			want = &h
		}
	}
	l, err := sc.list(ctx, keys, e.StatusListCredential, now, want)
	if err != nil {
		r.Error = err.Error()
		return r, nil
	}
	r.Version = common.Hash(l.hash).Hex()
	r.Anchor = ListNotAnchored
	if want != nil {
		if l.hash != *want {
			r.Error = fmt.Sprintf("%s: the status list at %s (version %s) is not the latest its member anchored (%s): stale or forged",
				CodeStatusVerification, e.StatusListCredential, r.Version, common.Hash(*want).Hex())
			return r, nil
		}
		r.Anchor = ListAnchored
	}
	if member != (common.Address{}) && l.issuer != issuer {
		r.Error = fmt.Sprintf("%s: the status list is issued by %s, not by the credential's issuer %s", CodeStatusVerification, l.issuer, issuer)
		return r, nil
	}
	if !slices.Contains(l.purposes, e.StatusPurpose) {
		r.Error = fmt.Sprintf("%s: the status list's purpose is %s, not the entry's %s", CodeStatusVerification, strings.Join(l.purposes, ", "), e.StatusPurpose)
		return r, nil
	}
	bit, err := l.bits.Get(idx)
	if err != nil {
		r.Error = fmt.Sprintf("%s: statusListIndex %d is outside the list of %d entries", vc.CodeRange, idx, l.bits.Len())
		return r, nil
	}
	if bit {
		r.Status = 1
	}
	r.Valid = true
	return r, nil
}

// anchorOf is the registry's latest hash of a member's list, from the
// cache while it is fresh.
func (sc *StatusChecker) anchorOf(ctx context.Context, chain anchor.ChainReader, registryAddr, member common.Address, list [32]byte, now time.Time) ([32]byte, bool, error) {
	k := anchorKey{member, list}
	sc.mu.Lock()
	c, ok := sc.anchors[k]
	sc.mu.Unlock()
	if ok && now.Before(c.expires) {
		return c.hash, !c.none, nil
	}
	a, err := anchor.StatusList(ctx, chain, registryAddr, member, list)
	c = anchorEntry{expires: now.Add(sc.cfg.AnchorCacheTTL)}
	switch {
	case errors.Is(err, anchor.ErrStatusListNotAnchored):
		c.none = true
	case err != nil:
		return [32]byte{}, false, err
	default:
		c.hash = a.Hash
	}
	if sc.cfg.AnchorCacheTTL > 0 {
		sc.mu.Lock()
		if len(sc.anchors) >= maxCachedLists {
			clear(sc.anchors)
		}
		sc.anchors[k] = c
		sc.mu.Unlock()
	}
	return c.hash, !c.none, nil
}

// list returns the verified list at url: from the cache when it holds the
// version want names (any version when want is nil), else read again.
func (sc *StatusChecker) list(ctx context.Context, keys *DIDKeys, url string, now time.Time, want *[32]byte) (*statusList, error) {
	sc.mu.Lock()
	l, ok := sc.cache[url]
	sc.mu.Unlock()
	if ok && now.Before(l.expires) && (want == nil || l.hash == *want) {
		return l, nil
	}
	l, err := sc.read(ctx, keys, url, now)
	if err != nil {
		return nil, err
	}
	if want != nil && l.hash != *want && !strings.Contains(url, "?") {
		// A credanchor node serves any version by its hash: the one the
		// chain names may be newer than the one it serves as latest for
		// the moment between its anchor being mined and being recorded.
		if byHash, err := sc.read(ctx, keys, url+"?hash="+common.Hash(*want).Hex(), now); err == nil && byHash.hash == *want {
			l = byHash
		}
	}
	if sc.cfg.CacheTTL > 0 {
		sc.mu.Lock()
		if len(sc.cache) >= maxCachedLists {
			for k, c := range sc.cache {
				if !now.Before(c.expires) || len(sc.cache) >= maxCachedLists {
					delete(sc.cache, k)
				}
			}
		}
		sc.cache[url] = l
		sc.mu.Unlock()
	}
	return l, nil
}

// read fetches and verifies the list credential at url.
func (sc *StatusChecker) read(ctx context.Context, keys *DIDKeys, url string, now time.Time) (*statusList, error) {
	var (
		data  []byte
		local bool
		err   error
	)
	if sc.cfg.Local != nil {
		if data, local, err = sc.cfg.Local(ctx, url); err != nil {
			return nil, fmt.Errorf("%s: %s: %v", CodeStatusRetrieval, url, err)
		}
	}
	if !local {
		if data, _, err = sc.fetch.Get(ctx, url, "application/vc+ld+json, application/vc, application/json, application/vc+jwt"); err != nil {
			return nil, fmt.Errorf("%s: %v", CodeStatusRetrieval, err)
		}
	}
	form := credential.FormJSON
	if t := bytes.TrimSpace(data); len(t) == 0 || t[0] != '{' {
		form = credential.FormJWT
	}
	return sc.parse(ctx, keys, data, form, now)
}

// parse verifies a status list credential and decodes its list.
func (sc *StatusChecker) parse(ctx context.Context, keys *DIDKeys, data []byte, form credential.Form, now time.Time) (*statusList, error) {
	sec := checkCredential(ctx, keys, data, form, now)
	for _, c := range sec.checks {
		if !c.OK {
			return nil, fmt.Errorf("%s: the status list credential fails its %s check: %s", CodeStatusVerification, c.Check, c.Detail)
		}
	}
	credJSON := data
	if form == credential.FormJWT {
		tok, err := vcjwt.Parse(strings.TrimSpace(string(data)))
		if err != nil {
			return nil, fmt.Errorf("%s: %v", CodeStatusVerification, err)
		}
		if credJSON, err = tok.Credential(); err != nil {
			return nil, fmt.Errorf("%s: %v", CodeStatusVerification, err)
		}
	}
	c, err := vc.ParseCredential(credJSON)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", CodeStatusVerification, err)
	}
	if !c.HasType("BitstringStatusListCredential") {
		return nil, fmt.Errorf("%s: not a BitstringStatusListCredential", CodeStatusVerification)
	}
	subjects := c.CredentialSubject()
	if len(subjects) != 1 {
		return nil, fmt.Errorf("%s: a status list credential has one subject, not %d", CodeStatusVerification, len(subjects))
	}
	s := subjects[0]
	if t := s["type"]; t != "BitstringStatusList" && !slices.Contains(anyStrings(t), "BitstringStatusList") {
		return nil, fmt.Errorf("%s: the subject is not a BitstringStatusList", CodeStatusVerification)
	}
	purposes := anyStrings(s["statusPurpose"])
	if p, ok := s["statusPurpose"].(string); ok {
		purposes = []string{p}
	}
	encoded, _ := s["encodedList"].(string)
	bits, err := statuslist.Decode(encoded, statuslist.DecodeOptions{MinBits: sc.cfg.MinBits})
	switch {
	case errors.Is(err, statuslist.ErrLength):
		return nil, fmt.Errorf("%s: %v", CodeStatusListLength, err)
	case err != nil:
		return nil, fmt.Errorf("%s: %v", vc.CodeMalformedValue, err)
	}
	d, err := credential.Digest(data, form)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", CodeStatusVerification, err)
	}
	l := &statusList{hash: d, issuer: sec.issuer, purposes: purposes, bits: bits, expires: now.Add(sc.cfg.CacheTTL)}
	if until, err := c.ValidUntil(); err == nil && !until.IsZero() {
		l.until = until
		l.expires = minTime(l.expires, until)
	}
	if ttl, ok := s["ttl"].(json.Number); ok {
		if ms, err := ttl.Int64(); err == nil && ms > 0 {
			l.expires = minTime(l.expires, now.Add(time.Duration(ms)*time.Millisecond))
		}
	}
	return l, nil
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func anyStrings(v any) []string {
	l, _ := v.([]any)
	var out []string
	for _, x := range l {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// StatusListURLs returns the distinct status list URLs a credential's
// Bitstring Status List entries name.
func StatusListURLs(data []byte, form credential.Form) []string {
	entries, _, _, err := statusEntries(data, form)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		if !slices.Contains(out, e.StatusListCredential) {
			out = append(out, e.StatusListCredential)
		}
	}
	return out
}
