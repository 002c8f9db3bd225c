package vc

import (
	"fmt"
	"time"
)

// Context URLs and type names the checks rely on.
const (
	// ContextV2 is the VC Data Model 2.0 base context, first in @context.
	ContextV2 = "https://www.w3.org/ns/credentials/v2"
	// ContextV1 is the VC Data Model 1.1 base context, first in @context.
	ContextV1 = "https://www.w3.org/2018/credentials/v1"

	TypeVerifiableCredential          = "VerifiableCredential"
	TypeVerifiablePresentation        = "VerifiablePresentation"
	TypeEnvelopedVerifiableCredential = "EnvelopedVerifiableCredential"
)

// Version is the VC Data Model version a document declares by its first
// @context entry.
type Version int

const (
	// VersionUnknown: the first @context entry is neither base context.
	VersionUnknown Version = iota
	// Version1 is VC Data Model 1.1 (read only).
	Version1
	// Version2 is VC Data Model 2.0.
	Version2
)

// String returns "1.1", "2.0" or "unknown".
func (v Version) String() string {
	switch v {
	case Version1:
		return "1.1"
	case Version2:
		return "2.0"
	}
	return "unknown"
}

// Credential is a parsed verifiable credential. It keeps the document exactly
// as decoded; accessors read from it and never change it.
type Credential struct {
	raw string
	obj map[string]any
}

// ParseCredential parses a credential strictly (see MaxDocumentSize and
// MaxDepth; duplicate keys, invalid UTF-8 and trailing data are refused). It
// checks only that data is one JSON object: call Check for the data model's
// rules. A credential parsed again soon after (by the checks of one
// verification) shares its decoded object, which no one modifies. Errors
// wrap ErrParse.
func ParseCredential(data []byte) (*Credential, error) {
	obj, text, err := parseShared(data)
	if err != nil {
		return nil, err
	}
	return &Credential{raw: text, obj: obj}, nil
}

// credentialFromObject wraps an already decoded object (an embedded
// credential in a presentation); it has no raw bytes of its own.
func credentialFromObject(obj map[string]any) *Credential {
	return &Credential{obj: obj}
}

// Raw returns a copy of the bytes the credential was parsed from (nil for a
// credential embedded in a presentation).
func (c *Credential) Raw() []byte {
	if c.raw == "" {
		return nil
	}
	return []byte(c.raw)
}

// Object returns the decoded document: maps, slices, strings, json.Number,
// bools and nils. The caller must not modify it.
func (c *Credential) Object() map[string]any { return c.obj }

// Version reports the data model version from the first @context entry.
func (c *Credential) Version() Version { return versionOf(c.obj) }

// Contexts returns the @context entries (strings and inline context objects);
// a single value is returned as a one-element slice.
func (c *Credential) Contexts() []any { return list(c.obj["@context"]) }

// ID returns the credential's id, or "" if it is absent or not a string.
func (c *Credential) ID() string { s, _ := c.obj["id"].(string); return s }

// Types returns the string values of type; a single string is a one-element
// slice and non-string values are skipped.
func (c *Credential) Types() []string { return stringsOf(c.obj["type"]) }

// HasType reports whether type includes t.
func (c *Credential) HasType(t string) bool { return contains(c.Types(), t) }

// Issuer is the issuer of a credential: a URL, or an object whose id is one.
type Issuer struct {
	// ID is the issuer's URL ("" if absent or not a string).
	ID string
	// Object is the issuer object as decoded; nil when the issuer was given
	// as a plain URL.
	Object map[string]any
}

// Name returns the issuer object's name: the string, or the @value of the
// first language value object. "" if there is none.
func (i Issuer) Name() string { return plainText(i.Object["name"]) }

// Issuer returns the issuer, or ErrNotFound if the property is absent or is
// neither a string nor an object.
func (c *Credential) Issuer() (Issuer, error) {
	switch v := c.obj["issuer"].(type) {
	case string:
		return Issuer{ID: v}, nil
	case map[string]any:
		id, _ := v["id"].(string)
		return Issuer{ID: id, Object: v}, nil
	}
	return Issuer{}, ErrNotFound
}

// ValidFrom returns validFrom (VC Data Model 2.0), ErrNotFound if absent, or
// an error wrapping ErrDateTime if it is not an XML Schema dateTimeStamp.
func (c *Credential) ValidFrom() (time.Time, error) { return c.date("validFrom", true) }

// ValidUntil returns validUntil (VC Data Model 2.0); errors as ValidFrom.
func (c *Credential) ValidUntil() (time.Time, error) { return c.date("validUntil", true) }

// IssuanceDate returns issuanceDate (VC Data Model 1.1), ErrNotFound if
// absent, or an error wrapping ErrDateTime if it is not an XML Schema
// dateTime.
func (c *Credential) IssuanceDate() (time.Time, error) { return c.date("issuanceDate", false) }

// ExpirationDate returns expirationDate (VC Data Model 1.1); errors as
// IssuanceDate.
func (c *Credential) ExpirationDate() (time.Time, error) { return c.date("expirationDate", false) }

func (c *Credential) date(key string, stamp bool) (time.Time, error) {
	v, ok := c.obj[key]
	if !ok {
		return time.Time{}, ErrNotFound
	}
	s, ok := v.(string)
	if !ok {
		return time.Time{}, fmt.Errorf("%w: %s is %s, want a string", ErrDateTime, key, jsonKind(v))
	}
	if stamp {
		return ParseDateTimeStamp(s)
	}
	return ParseDateTime(s)
}

// CredentialSubject returns the credentialSubject objects (one or many);
// non-object values are skipped.
func (c *Credential) CredentialSubject() []map[string]any {
	return objectsOf(c.obj["credentialSubject"])
}

// CredentialStatus returns the credentialStatus objects.
func (c *Credential) CredentialStatus() []map[string]any { return objectsOf(c.obj["credentialStatus"]) }

// CredentialSchema returns the credentialSchema objects.
func (c *Credential) CredentialSchema() []map[string]any { return objectsOf(c.obj["credentialSchema"]) }

// Evidence returns the evidence objects.
func (c *Credential) Evidence() []map[string]any { return objectsOf(c.obj["evidence"]) }

// TermsOfUse returns the termsOfUse objects.
func (c *Credential) TermsOfUse() []map[string]any { return objectsOf(c.obj["termsOfUse"]) }

// RefreshService returns the refreshService objects.
func (c *Credential) RefreshService() []map[string]any { return objectsOf(c.obj["refreshService"]) }

// Proof returns the embedded proofs (one or a set) exactly as decoded, for
// a Data Integrity verifier; an enveloped (JWT) credential has none.
func (c *Credential) Proof() []map[string]any { return objectsOf(c.obj["proof"]) }

// versionOf reads the version from a document's first @context entry.
func versionOf(obj map[string]any) Version {
	ctx := list(obj["@context"])
	if len(ctx) == 0 {
		return VersionUnknown
	}
	switch ctx[0] {
	case ContextV2:
		return Version2
	case ContextV1:
		return Version1
	}
	return VersionUnknown
}

// list returns v as a slice: nil for absent, v itself for an array, else a
// one-element slice (JSON-LD lets a single value stand for a set of one).
func list(v any) []any {
	switch t := v.(type) {
	case nil:
		return nil
	case []any:
		return t
	}
	return []any{v}
}

func stringsOf(v any) []string {
	var out []string
	for _, e := range list(v) {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func objectsOf(v any) []map[string]any {
	var out []map[string]any
	for _, e := range list(v) {
		if m, ok := e.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// plainText returns a string, or the @value of the first language value
// object of v.
func plainText(v any) string {
	for _, e := range list(v) {
		switch t := e.(type) {
		case string:
			return t
		case map[string]any:
			if s, ok := t["@value"].(string); ok {
				return s
			}
		}
	}
	return ""
}

// jsonKind names v's JSON type for problem details.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	}
	return "a number"
}
