package did

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Relationship is a verification relationship (DID Core §5.3): the purpose a
// DID subject authorizes a verification method for.
type Relationship string

// The verification relationships of DID Core.
const (
	// AssertionMethod authorizes issuing credentials (Data Integrity
	// proofPurpose "assertionMethod").
	AssertionMethod Relationship = "assertionMethod"
	// Authentication authorizes proving control of the DID, as a holder does
	// when signing a presentation (proofPurpose "authentication").
	Authentication       Relationship = "authentication"
	KeyAgreement         Relationship = "keyAgreement"
	CapabilityInvocation Relationship = "capabilityInvocation"
	CapabilityDelegation Relationship = "capabilityDelegation"
)

// relationships lists every Relationship, in DID Core order.
var relationships = []Relationship{Authentication, AssertionMethod, KeyAgreement, CapabilityInvocation, CapabilityDelegation}

// Verification method types this package can take a public key from.
const (
	// TypeMultikey is the W3C Controlled Identifiers Multikey type, used by
	// eddsa-rdfc-2022 / eddsa-jcs-2022 and by current did:key documents.
	TypeMultikey = "Multikey"
	// TypeEd25519VerificationKey2020 is the legacy type of the
	// Ed25519Signature2020 suite. Its publicKeyMultibase is encoded exactly
	// like a Multikey's.
	TypeEd25519VerificationKey2020 = "Ed25519VerificationKey2020"
	// TypeJSONWebKey2020 and TypeJSONWebKey carry a publicKeyJwk.
	TypeJSONWebKey2020 = "JsonWebKey2020"
	TypeJSONWebKey     = "JsonWebKey"
)

// Document is a DID document. [ParseDocument] fills it from JSON, resolving
// relative ids ("#key-1") against the document id and moving methods embedded
// in a relationship into VerificationMethods, so every id below is absolute
// and every relationship entry is a reference. Marshalling it gives the
// application/did+ld+json form. Services and other properties are not kept.
type Document struct {
	// Context is the @context as it was given (nil for plain JSON).
	Context              json.RawMessage      `json:"@context,omitempty"`
	ID                   string               `json:"id"`
	Controller           []string             `json:"controller,omitempty"`
	AlsoKnownAs          []string             `json:"alsoKnownAs,omitempty"`
	VerificationMethods  []VerificationMethod `json:"verificationMethod,omitempty"`
	Authentication       []string             `json:"authentication,omitempty"`
	AssertionMethod      []string             `json:"assertionMethod,omitempty"`
	KeyAgreement         []string             `json:"keyAgreement,omitempty"`
	CapabilityInvocation []string             `json:"capabilityInvocation,omitempty"`
	CapabilityDelegation []string             `json:"capabilityDelegation,omitempty"`
}

// VerificationMethod is a verification method (DID Core §5.2) with its key
// material in one of two forms.
type VerificationMethod struct {
	ID                 string `json:"id"`
	Type               string `json:"type"`
	Controller         string `json:"controller"`
	PublicKeyMultibase string `json:"publicKeyMultibase,omitempty"`
	PublicKeyJWK       *JWK   `json:"publicKeyJwk,omitempty"`
}

// JWK is the public part of a JSON Web Key (RFC 7517). Parsing refuses a JWK
// that carries private members, since a DID document is public.
type JWK struct {
	Kty string `json:"kty"`
	Crv string `json:"crv,omitempty"`
	X   string `json:"x,omitempty"`
	Y   string `json:"y,omitempty"`
	Alg string `json:"alg,omitempty"`
	Kid string `json:"kid,omitempty"`
}

// Relationship returns the method ids listed under rel, or nil for an unknown
// relationship.
func (d *Document) Relationship(rel Relationship) []string {
	switch rel {
	case Authentication:
		return d.Authentication
	case AssertionMethod:
		return d.AssertionMethod
	case KeyAgreement:
		return d.KeyAgreement
	case CapabilityInvocation:
		return d.CapabilityInvocation
	case CapabilityDelegation:
		return d.CapabilityDelegation
	}
	return nil
}

func (d *Document) relationshipPtr(rel Relationship) *[]string {
	switch rel {
	case Authentication:
		return &d.Authentication
	case AssertionMethod:
		return &d.AssertionMethod
	case KeyAgreement:
		return &d.KeyAgreement
	case CapabilityInvocation:
		return &d.CapabilityInvocation
	case CapabilityDelegation:
		return &d.CapabilityDelegation
	}
	return nil
}

// VerificationMethod returns a copy of the verification method id, which must
// be defined in this document, controlled by it, and listed under rel. id may
// be absolute (did:web:example.com#key-1) or relative to the document
// (#key-1).
//
// A bare DID is refused with [ErrNotFound]: it names a document, not a
// method, and accepting it would let a proof skip saying which key signed.
// An id that is not in the document wraps [ErrNotFound]; one that is but is
// not listed under rel wraps [ErrRelationship], so an authentication key
// cannot sign a credential. A method controlled by another DID wraps
// [ErrInvalidDocument] (W3C Controlled Identifiers §3.3).
func (d *Document) VerificationMethod(id string, rel Relationship) (*VerificationMethod, error) {
	if d.relationshipPtr(rel) == nil {
		return nil, fmt.Errorf("%w: unknown relationship %q", ErrRelationship, rel)
	}
	abs := d.absolute(id)
	u, err := ParseURL(abs)
	if err != nil {
		return nil, err
	}
	if u.Fragment == "" {
		return nil, fmt.Errorf("%w: %s names a DID document, not a verification method (no #fragment)", ErrNotFound, quote(id))
	}
	if u.DID.String() != d.ID || u.Path != "" || u.Query != "" {
		return nil, fmt.Errorf("%w: verification method %s is not part of DID document %s", ErrNotFound, quote(id), quote(d.ID))
	}
	i := slices.IndexFunc(d.VerificationMethods, func(vm VerificationMethod) bool { return d.absolute(vm.ID) == abs })
	if i < 0 {
		return nil, fmt.Errorf("%w: DID document %s has no verification method %s", ErrNotFound, quote(d.ID), quote(abs))
	}
	if !slices.ContainsFunc(d.Relationship(rel), func(ref string) bool { return d.absolute(ref) == abs }) {
		return nil, fmt.Errorf("%w: %s is not listed under %s in DID document %s", ErrRelationship, quote(abs), rel, quote(d.ID))
	}
	vm := d.VerificationMethods[i]
	if vm.Controller != d.ID {
		return nil, fmt.Errorf("%w: verification method %s has controller %s, want %s", ErrInvalidDocument, quote(abs), quote(vm.Controller), quote(d.ID))
	}
	out := vm
	out.ID = abs
	if vm.PublicKeyJWK != nil {
		jwk := *vm.PublicKeyJWK
		out.PublicKeyJWK = &jwk
	}
	return &out, nil
}

// absolute resolves an id relative to the document ("#key-1").
func (d *Document) absolute(id string) string {
	if strings.HasPrefix(id, "#") {
		return d.ID + id
	}
	return id
}

// PublicKey returns the method's public key: an ed25519.PublicKey for
// Multikey and Ed25519VerificationKey2020 (Ed25519 only), an
// ed25519.PublicKey or *ecdsa.PublicKey (P-256) for JsonWebKey2020 and
// JsonWebKey. Other types and curves wrap [ErrUnsupportedKey]; malformed key
// material wraps [ErrInvalidKey].
func (vm *VerificationMethod) PublicKey() (crypto.PublicKey, error) {
	switch vm.Type {
	case TypeMultikey, TypeEd25519VerificationKey2020:
		if vm.PublicKeyMultibase == "" || vm.PublicKeyJWK != nil {
			return nil, fmt.Errorf("%w: %s method %s needs publicKeyMultibase and nothing else", ErrInvalidKey, vm.Type, quote(vm.ID))
		}
		pub, err := DecodeMultikey(vm.PublicKeyMultibase)
		if err != nil {
			return nil, fmt.Errorf("verification method %s: %w", quote(vm.ID), err)
		}
		return pub, nil
	case TypeJSONWebKey2020, TypeJSONWebKey:
		if vm.PublicKeyJWK == nil || vm.PublicKeyMultibase != "" {
			return nil, fmt.Errorf("%w: %s method %s needs publicKeyJwk and nothing else", ErrInvalidKey, vm.Type, quote(vm.ID))
		}
		pub, err := vm.PublicKeyJWK.PublicKey()
		if err != nil {
			return nil, fmt.Errorf("verification method %s: %w", quote(vm.ID), err)
		}
		return pub, nil
	}
	return nil, fmt.Errorf("%w: verification method type %s", ErrUnsupportedKey, quote(vm.Type))
}

// Ed25519PublicKey returns the method's key if it is an Ed25519 key, as the
// eddsa cryptosuites and Ed25519Signature2020 require; any other key wraps
// [ErrUnsupportedKey].
func (vm *VerificationMethod) Ed25519PublicKey() (ed25519.PublicKey, error) {
	pub, err := vm.PublicKey()
	if err != nil {
		return nil, err
	}
	ed, ok := pub.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%w: verification method %s holds a %T, want an Ed25519 key", ErrUnsupportedKey, quote(vm.ID), pub)
	}
	return ed, nil
}

// PublicKey decodes an OKP Ed25519 key or an EC P-256 key (RFC 8037, RFC 7518).
func (k *JWK) PublicKey() (crypto.PublicKey, error) {
	switch {
	case k.Kty == "OKP" && k.Crv == "Ed25519":
		if k.Y != "" {
			return nil, fmt.Errorf("%w: OKP JWK has a y member", ErrInvalidKey)
		}
		x, err := jwkCoordinate("x", k.X, ed25519.PublicKeySize)
		if err != nil {
			return nil, err
		}
		return ed25519.PublicKey(x), nil
	case k.Kty == "EC" && k.Crv == "P-256":
		x, err := jwkCoordinate("x", k.X, 32)
		if err != nil {
			return nil, err
		}
		y, err := jwkCoordinate("y", k.Y, 32)
		if err != nil {
			return nil, err
		}
		point := append(append([]byte{4}, x...), y...)
		pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), point)
		if err != nil {
			return nil, fmt.Errorf("%w: P-256 JWK: %w", ErrInvalidKey, err)
		}
		return pub, nil
	}
	return nil, fmt.Errorf("%w: JWK kty %s crv %s (want OKP Ed25519 or EC P-256)", ErrUnsupportedKey, quote(k.Kty), quote(k.Crv))
}

func jwkCoordinate(name, s string, size int) ([]byte, error) {
	// RFC 7518 requires unpadded base64url; Strict refuses non-canonical
	// trailing bits, so one key has one spelling.
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: JWK %s is not unpadded base64url: %w", ErrInvalidKey, name, err)
	}
	if len(b) != size {
		return nil, fmt.Errorf("%w: JWK %s is %d bytes, want %d", ErrInvalidKey, name, len(b), size)
	}
	return b, nil
}

// jwkPrivateMembers are the JWK members that hold private key material
// (RFC 7518 §6.2.2, §6.3.2, §6.4.1; RFC 8037 §2).
var jwkPrivateMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// ParseDocument parses and checks a DID document in its JSON or JSON-LD
// representation. Property names are matched exactly (encoding/json's
// case-insensitive matching would let "ID" stand in for "id"). It checks that
// the id is a DID, that every verification method has an id, type and
// controller and at most one kind of key material, that method ids are
// unique, and that relationship entries are method ids or embedded methods.
// Key material itself is decoded only by [VerificationMethod.PublicKey], so
// one unusable key does not make the rest of the document unusable. Errors
// wrap [ErrInvalidDocument].
func ParseDocument(data []byte) (*Document, error) {
	var d Document
	if err := json.Unmarshal(data, &d); err != nil {
		if errors.Is(err, ErrInvalidDocument) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %w", ErrInvalidDocument, err)
	}
	return &d, nil
}

// UnmarshalJSON parses a DID document as [ParseDocument] does.
func (d *Document) UnmarshalJSON(data []byte) error {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return fmt.Errorf("%w: not a JSON object: %w", ErrInvalidDocument, err)
	}
	if top == nil {
		return fmt.Errorf("%w: null", ErrInvalidDocument)
	}
	var doc Document
	if err := stringMember(top, "id", &doc.ID, true); err != nil {
		return err
	}
	if _, err := Parse(doc.ID); err != nil {
		return fmt.Errorf("%w: id: %w", ErrInvalidDocument, err)
	}
	if raw, ok := top["@context"]; ok {
		doc.Context = bytes.Clone(raw)
	}
	var err error
	if doc.Controller, err = didSet(top, "controller", doc.ID); err != nil {
		return err
	}
	if raw, ok := top["alsoKnownAs"]; ok {
		if err := json.Unmarshal(raw, &doc.AlsoKnownAs); err != nil {
			return fmt.Errorf("%w: alsoKnownAs is not an array of strings", ErrInvalidDocument)
		}
	}
	byID := map[string]int{}
	add := func(vm VerificationMethod) error {
		if i, ok := byID[vm.ID]; ok {
			// The same method may be referenced twice but not defined twice
			// with different content: which one a verifier used would then
			// depend on lookup order.
			if !sameMethod(doc.VerificationMethods[i], vm) {
				return fmt.Errorf("%w: verification method %s is defined twice", ErrInvalidDocument, quote(vm.ID))
			}
			return nil
		}
		byID[vm.ID] = len(doc.VerificationMethods)
		doc.VerificationMethods = append(doc.VerificationMethods, vm)
		return nil
	}
	if raw, ok := top["verificationMethod"]; ok {
		var list []json.RawMessage
		if err := json.Unmarshal(raw, &list); err != nil {
			return fmt.Errorf("%w: verificationMethod is not an array", ErrInvalidDocument)
		}
		for _, item := range list {
			vm, err := parseMethod(item, doc.ID)
			if err != nil {
				return err
			}
			if _, dup := byID[vm.ID]; dup {
				return fmt.Errorf("%w: verification method %s is defined twice", ErrInvalidDocument, quote(vm.ID))
			}
			if err := add(vm); err != nil {
				return err
			}
		}
	}
	for _, rel := range relationships {
		raw, ok := top[string(rel)]
		if !ok {
			continue
		}
		var list []json.RawMessage
		if err := json.Unmarshal(raw, &list); err != nil {
			return fmt.Errorf("%w: %s is not an array", ErrInvalidDocument, rel)
		}
		refs := make([]string, 0, len(list))
		for _, item := range list {
			var ref string
			if err := json.Unmarshal(item, &ref); err == nil {
				ref = resolveRef(ref, doc.ID)
				if _, err := ParseURL(ref); err != nil {
					return fmt.Errorf("%w: %s entry: %w", ErrInvalidDocument, rel, err)
				}
				refs = append(refs, ref)
				continue
			}
			vm, err := parseMethod(item, doc.ID)
			if err != nil {
				return fmt.Errorf("%s: %w", rel, err)
			}
			if err := add(vm); err != nil {
				return err
			}
			refs = append(refs, vm.ID)
		}
		*doc.relationshipPtr(rel) = refs
	}
	*d = doc
	return nil
}

func sameMethod(a, b VerificationMethod) bool {
	if (a.PublicKeyJWK == nil) != (b.PublicKeyJWK == nil) {
		return false
	}
	if a.PublicKeyJWK != nil && *a.PublicKeyJWK != *b.PublicKeyJWK {
		return false
	}
	return a.ID == b.ID && a.Type == b.Type && a.Controller == b.Controller && a.PublicKeyMultibase == b.PublicKeyMultibase
}

// parseMethod parses one verification method object.
func parseMethod(raw json.RawMessage, docID string) (VerificationMethod, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return VerificationMethod{}, fmt.Errorf("%w: verification method is not an object or a string", ErrInvalidDocument)
	}
	var vm VerificationMethod
	if err := stringMember(m, "id", &vm.ID, true); err != nil {
		return VerificationMethod{}, err
	}
	vm.ID = resolveRef(vm.ID, docID)
	if _, err := ParseURL(vm.ID); err != nil {
		return VerificationMethod{}, fmt.Errorf("%w: verification method id: %w", ErrInvalidDocument, err)
	}
	if err := stringMember(m, "type", &vm.Type, true); err != nil {
		return VerificationMethod{}, err
	}
	if err := stringMember(m, "controller", &vm.Controller, true); err != nil {
		return VerificationMethod{}, err
	}
	if _, err := Parse(vm.Controller); err != nil {
		return VerificationMethod{}, fmt.Errorf("%w: verification method %s controller: %w", ErrInvalidDocument, quote(vm.ID), err)
	}
	if err := stringMember(m, "publicKeyMultibase", &vm.PublicKeyMultibase, false); err != nil {
		return VerificationMethod{}, err
	}
	if rawJWK, ok := m["publicKeyJwk"]; ok {
		jwk, err := parseJWK(rawJWK)
		if err != nil {
			return VerificationMethod{}, fmt.Errorf("%w: verification method %s: %w", ErrInvalidDocument, quote(vm.ID), err)
		}
		vm.PublicKeyJWK = jwk
	}
	if vm.PublicKeyJWK != nil && vm.PublicKeyMultibase != "" {
		// Controlled Identifiers §2.2: one method, one key; with two a
		// signer and a verifier could disagree about which one counts.
		return VerificationMethod{}, fmt.Errorf("%w: verification method %s has both publicKeyMultibase and publicKeyJwk", ErrInvalidDocument, quote(vm.ID))
	}
	return vm, nil
}

func parseJWK(raw json.RawMessage) (*JWK, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return nil, fmt.Errorf("publicKeyJwk is not an object")
	}
	for _, p := range jwkPrivateMembers {
		if _, ok := m[p]; ok {
			return nil, fmt.Errorf("publicKeyJwk has private key member %q", p)
		}
	}
	var k JWK
	for _, f := range []struct {
		name     string
		dst      *string
		required bool
	}{{"kty", &k.Kty, true}, {"crv", &k.Crv, false}, {"x", &k.X, false}, {"y", &k.Y, false}, {"alg", &k.Alg, false}, {"kid", &k.Kid, false}} {
		if err := stringMember(m, f.name, f.dst, f.required); err != nil {
			return nil, err
		}
	}
	return &k, nil
}

// stringMember reads a string property into dst.
func stringMember(m map[string]json.RawMessage, name string, dst *string, required bool) error {
	raw, ok := m[name]
	if !ok {
		if required {
			return fmt.Errorf("%w: missing %s", ErrInvalidDocument, name)
		}
		return nil
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		return fmt.Errorf("%w: %s is not a string", ErrInvalidDocument, name)
	}
	if required && *dst == "" {
		return fmt.Errorf("%w: empty %s", ErrInvalidDocument, name)
	}
	return nil
}

// didSet reads a property that is a DID or an array of DIDs.
func didSet(m map[string]json.RawMessage, name, docID string) ([]string, error) {
	raw, ok := m[name]
	if !ok {
		return nil, nil
	}
	var list []string
	var one string
	if err := json.Unmarshal(raw, &one); err == nil {
		list = []string{one}
	} else if err := json.Unmarshal(raw, &list); err != nil {
		return nil, fmt.Errorf("%w: %s is not a DID or an array of DIDs", ErrInvalidDocument, name)
	}
	for _, s := range list {
		if _, err := Parse(s); err != nil {
			return nil, fmt.Errorf("%w: %s of %s: %w", ErrInvalidDocument, name, quote(docID), err)
		}
	}
	return list, nil
}

func resolveRef(ref, docID string) string {
	if strings.HasPrefix(ref, "#") {
		return docID + ref
	}
	return ref
}
