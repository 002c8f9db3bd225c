package vc

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Error codes from the VC Data Model 2.0 ("Validation" and "Problem Details")
// and VC-API, used as [Problem.Code].
const (
	// CodeParsing: the document is not well-formed JSON of the expected shape.
	CodeParsing = "PARSING_ERROR"
	// CodeMalformedValue: a property is missing or holds a value of the wrong
	// form.
	CodeMalformedValue = "MALFORMED_VALUE_ERROR"
	// CodeRange: a value is well formed but out of range, such as a validity
	// period that has ended or an end before its start.
	CodeRange = "RANGE_ERROR"
	// CodeCryptographicSecurity is listed for completeness; this package
	// checks no proof and never reports it.
	CodeCryptographicSecurity = "CRYPTOGRAPHIC_SECURITY_ERROR"
)

// Kinds refine a [Problem.Code] so callers and tests can tell problems apart
// without matching on Detail text.
const (
	KindMissing          = "missing"           // a required property is absent
	KindNotURL           = "not-url"           // a value must be a single URL
	KindNotSingle        = "not-single"        // an array where one value is allowed
	KindWrongShape       = "wrong-shape"       // wrong JSON type (object, string, …)
	KindBaseContext      = "base-context"      // first @context is not the VC base context
	KindContextEntry     = "context-entry"     // an @context entry is neither URL nor object
	KindTermDefinition   = "term-definition"   // an inline term maps to an invalid IRI
	KindRequiredType     = "required-type"     // type lacks VerifiableCredential/Presentation
	KindTypeValue        = "type-value"        // a type value is not a string term or IRI
	KindDateTime         = "datetime"          // not an XML Schema dateTime(Stamp)
	KindValidityOrder    = "validity-order"    // validUntil before validFrom
	KindNotYetValid      = "not-yet-valid"     // validFrom (issuanceDate) after now
	KindExpired          = "expired"           // validUntil (expirationDate) before now
	KindEmptySubject     = "empty-subject"     // a credentialSubject with no claims
	KindLanguageValue    = "language-value"    // name/description not a string or language value object
	KindEnvelope         = "envelope"          // malformed EnvelopedVerifiableCredential
	KindHolderClaims     = "holder-claims"     // self-asserted credential vs holder
	KindOpenBadge        = "open-badge"        // an Open Badges 3.0 requirement
	KindUnexpectedEntity = "unexpected-entity" // a value that is not allowed at all here
)

// Problem is one failed check. It implements error so a caller can return a
// single problem directly.
type Problem struct {
	// Code is one of the Code* constants.
	Code string
	// Kind is one of the Kind* constants.
	Kind string
	// Path is an RFC 6901 JSON Pointer to the value at fault ("" is the
	// whole document).
	Path string
	// Detail says what is wrong, for people.
	Detail string
}

// Error formats the problem as "CODE at PATH: detail".
func (p Problem) Error() string {
	path := p.Path
	if path == "" {
		path = "/"
	}
	return fmt.Sprintf("vc: %s at %s: %s", p.Code, path, p.Detail)
}

// ErrParse is wrapped by every error ParseCredential and ParsePresentation
// return, so callers can map it to PARSING_ERROR with errors.Is.
var ErrParse = errors.New("vc: parse error")

// ErrNotFound is returned by accessors when the property is absent: an absent
// date is not the zero time.
var ErrNotFound = errors.New("vc: property not present")

// ErrDateTime is wrapped by the errors of ParseDateTime and
// ParseDateTimeStamp.
var ErrDateTime = errors.New("vc: invalid XML Schema dateTime")

// pointer appends a reference token to a JSON Pointer, escaping per RFC 6901.
func pointer(base string, tok any) string {
	switch t := tok.(type) {
	case int:
		return base + "/" + strconv.Itoa(t)
	case string:
		t = strings.ReplaceAll(t, "~", "~0")
		t = strings.ReplaceAll(t, "/", "~1")
		return base + "/" + t
	}
	return base
}

// problems collects Problems; the helpers keep check code short.
type problems []Problem

func (ps *problems) add(code, kind, path, format string, args ...any) {
	*ps = append(*ps, Problem{Code: code, Kind: kind, Path: path, Detail: fmt.Sprintf(format, args...)})
}

func (ps *problems) malformed(kind, path, format string, args ...any) {
	ps.add(CodeMalformedValue, kind, path, format, args...)
}
