package vc

import (
	"encoding/json"
	"fmt"
	"sync"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/credanchor/credanchor/node/internal/jsonlex"
)

// Limits on what ParseCredential and ParsePresentation accept. They bound the
// work a hostile document can cause; real credentials, even Open Badges with
// an embedded image, are far below them.
const (
	// MaxDocumentSize is the largest document accepted, in bytes.
	MaxDocumentSize = 4 << 20
	// MaxDepth is the deepest nesting of objects and arrays accepted.
	MaxDepth = 64
)

// ParseObject decodes data as exactly one JSON object, as strictly as
// ParseCredential does, into maps, slices, strings, json.Number, bools and
// nils. Other verifiers of the same documents (Data Integrity proofs) use
// it so that every check reads the document the same way, and decodes it
// once (see parseShared). The object may be shared: the caller must not
// modify it. Errors wrap ErrParse.
func ParseObject(data []byte) (map[string]any, error) {
	obj, _, err := parseShared(data)
	return obj, err
}

// The recent documents parseShared remembers, and the largest it
// remembers: a verification's checks follow each other closely, and a
// credential is a few kilobytes.
const (
	recentDocuments   = 16
	maxRecentDocument = 64 << 10
)

// recent holds the documents parsed last, by their text, and the ring
// of their texts in the order they go.
var recent struct {
	sync.Mutex
	docs  map[string]parsed
	order [recentDocuments]string
	next  int
}

// parsed is a document's text and its decoded object.
type parsed struct {
	text string
	obj  map[string]any
}

// parseShared parses a document that its caller reads and does not
// modify, and returns its text too, a copy of data. The checks of one
// verification (the data model's, the proof's) each parse the same bytes,
// and decoding was much of their cost, so a document parsed a moment ago
// is not decoded again: its object is shared, which the read-only contract
// of Credential.Object, Presentation.Object and ParseObject makes safe.
func parseShared(data []byte) (map[string]any, string, error) {
	if len(data) <= maxRecentDocument {
		recent.Lock()
		p, ok := recent.docs[string(data)]
		recent.Unlock()
		if ok {
			return p.obj, p.text, nil
		}
	}
	if err := checkDocument(data); err != nil {
		return nil, "", err
	}
	text := string(data)
	obj, err := parseText(text)
	if err != nil {
		return nil, "", err
	}
	if len(text) <= maxRecentDocument {
		recent.Lock()
		if recent.docs == nil {
			recent.docs = make(map[string]parsed, recentDocuments)
		}
		delete(recent.docs, recent.order[recent.next])
		recent.order[recent.next] = text
		recent.docs[text] = parsed{text, obj}
		recent.next = (recent.next + 1) % recentDocuments
		recent.Unlock()
	}
	return obj, text, nil
}

// checkDocument checks a document's size and encoding.
func checkDocument(data []byte) error {
	if len(data) > MaxDocumentSize {
		return fmt.Errorf("%w: document is %d bytes, limit %d", ErrParse, len(data), MaxDocumentSize)
	}
	if !utf8.Valid(data) {
		return fmt.Errorf("%w: invalid UTF-8", ErrParse)
	}
	return nil
}

// parseText decodes data, a document checkDocument accepted, as exactly
// one JSON object. Unlike json.Unmarshal it refuses duplicate keys (which
// JSON-LD and JCS would resolve differently from one implementation to the
// next, so a signature could cover a value a verifier never sees), invalid
// UTF-8 (which json.Unmarshal silently replaces), trailing data and nesting
// beyond MaxDepth. Numbers stay json.Number so no precision is lost before
// canonicalisation. Escapes decode as encoding/json decodes them: an
// escaped lone UTF-16 surrogate becomes U+FFFD. The decoded strings are
// substrings of data: one copy of the document rather than one allocation
// per string.
//
// It is a parser of its own rather than encoding/json's Decoder.Token,
// which allocates for every token: the node parses every credential it
// verifies, and this was a large part of the cost of a verification.
func parseText(data string) (map[string]any, error) {
	d := decoder{in: data}
	d.skipSpace()
	if d.pos >= len(d.in) {
		return nil, d.errorf("unexpected end of JSON input")
	}
	if d.in[d.pos] != '{' {
		return nil, fmt.Errorf("%w: document is not a JSON object", ErrParse)
	}
	obj, err := d.object(1)
	if err != nil {
		return nil, err
	}
	d.skipSpace()
	if d.pos != len(d.in) {
		return nil, fmt.Errorf("%w: data after the JSON object", ErrParse)
	}
	return obj, nil
}

// decoder reads one JSON text of valid UTF-8.
type decoder struct {
	in  string
	pos int
}

func (d *decoder) errorf(format string, args ...any) error {
	return fmt.Errorf("%w: %s (at byte %d)", ErrParse, fmt.Sprintf(format, args...), d.pos)
}

func (d *decoder) skipSpace() {
	d.pos = jsonlex.SkipSpace(d.in, d.pos)
}

// expect skips whitespace and consumes c.
func (d *decoder) expect(c byte, what string) error {
	d.skipSpace()
	if d.pos >= len(d.in) {
		return d.errorf("unexpected end of JSON input")
	}
	if d.in[d.pos] != c {
		return d.errorf("invalid character %q %s", d.in[d.pos], what)
	}
	d.pos++
	return nil
}

// object reads the object at d.pos, at the given depth.
func (d *decoder) object(depth int) (map[string]any, error) {
	if depth > MaxDepth {
		return nil, d.errorf("nesting deeper than %d", MaxDepth)
	}
	d.pos++ // '{'
	obj := make(map[string]any)
	d.skipSpace()
	if d.pos < len(d.in) && d.in[d.pos] == '}' {
		d.pos++
		return obj, nil
	}
	for {
		if err := d.expect('"', "looking for beginning of object key string"); err != nil {
			return nil, err
		}
		d.pos--
		key, err := d.str()
		if err != nil {
			return nil, err
		}
		if err := d.expect(':', "after object key"); err != nil {
			return nil, err
		}
		v, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		// One map operation finds a duplicate: the map does not grow.
		n := len(obj)
		if obj[key] = v; len(obj) == n {
			return nil, d.errorf("duplicate key %q", key)
		}
		end, err := d.next('}', "after object key:value pair")
		if err != nil {
			return nil, err
		}
		if end {
			return obj, nil
		}
	}
}

// next reads what follows a member or an element: ',' before another, or
// closing, which ends the container (end true).
func (d *decoder) next(closing byte, what string) (end bool, err error) {
	d.skipSpace()
	if d.pos >= len(d.in) {
		return false, d.errorf("unexpected end of JSON input")
	}
	switch d.in[d.pos] {
	case ',':
		d.pos++
		return false, nil
	case closing:
		d.pos++
		return true, nil
	}
	return false, d.errorf("invalid character %q %s", d.in[d.pos], what)
}

// array reads the array at d.pos, at the given depth.
func (d *decoder) array(depth int) ([]any, error) {
	if depth > MaxDepth {
		return nil, d.errorf("nesting deeper than %d", MaxDepth)
	}
	d.pos++ // '['
	arr := []any{}
	d.skipSpace()
	if d.pos < len(d.in) && d.in[d.pos] == ']' {
		d.pos++
		return arr, nil
	}
	for {
		v, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		arr = append(arr, v)
		end, err := d.next(']', "after array element")
		if err != nil {
			return nil, err
		}
		if end {
			return arr, nil
		}
	}
}

// value reads one value of a container at the given depth.
func (d *decoder) value(depth int) (any, error) {
	d.skipSpace()
	if d.pos >= len(d.in) {
		return nil, d.errorf("unexpected end of JSON input")
	}
	switch c := d.in[d.pos]; c {
	case '{':
		return d.object(depth + 1)
	case '[':
		return d.array(depth + 1)
	case '"':
		return d.strValue()
	case 't':
		return true, d.literal("true")
	case 'f':
		return false, d.literal("false")
	case 'n':
		return nil, d.literal("null")
	default:
		if c == '-' || c >= '0' && c <= '9' {
			return d.number()
		}
		return nil, d.errorf("invalid character %q looking for beginning of value", c)
	}
}

func (d *decoder) literal(lit string) error {
	if len(d.in)-d.pos < len(lit) || d.in[d.pos:d.pos+len(lit)] != lit {
		return d.errorf("invalid literal, want %s", lit)
	}
	d.pos += len(lit)
	return nil
}

// number reads a number (RFC 8259 §6) as written.
func (d *decoder) number() (json.Number, error) {
	start := d.pos
	end, ok := jsonlex.Number(d.in, d.pos)
	d.pos = end
	if !ok {
		return "", d.errorf("invalid number")
	}
	return json.Number(d.in[start:end]), nil
}

// vocabulary holds the keys and values that most credentials, Open Badges
// and proofs repeat, each boxed once: the decoder returns these instead of
// allocating a string (and an interface value) for every occurrence.
var vocabulary = func() map[string]any {
	m := make(map[string]any)
	for _, s := range []string{
		// VC Data Model 2.0 and 1.1.
		"@context", "id", "type", "issuer", "name", "description", "validFrom", "validUntil",
		"issuanceDate", "expirationDate", "credentialSubject", "credentialStatus", "credentialSchema",
		"evidence", "termsOfUse", "refreshService", "holder", "verifiableCredential", "proof",
		"@value", "@language", "@direction", "@id", "@type",
		ContextV2, ContextV1, TypeVerifiableCredential, TypeVerifiablePresentation,
		"https://www.w3.org/ns/credentials/examples/v2",
		// Bitstring Status List.
		"statusPurpose", "statusListIndex", "statusListCredential", "statusSize", "encodedList",
		"BitstringStatusListEntry", "BitstringStatusListCredential", "BitstringStatusList", "revocation", "suspension",
		// Open Badges 3.0.
		"achievement", "criteria", "narrative", "image", "url", "email", "phone", "achievementType",
		"alignment", "result", "resultDescription", "identifier", "identityHash", "identityType", "hashed",
		"salt", "creator", "endorsement", "awardedDate", "caption", "tag", "source", "license",
		"creditsEarned", "activityStartDate", "activityEndDate", "role", "parentOrg", "official", "address",
		"OpenBadgeCredential", "AchievementCredential", "AchievementSubject", "Achievement", "Profile",
		"Image", "IdentityObject", "Criteria", "Result", "ResultDescription", "Alignment", "EndorsementCredential",
		"https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
		"https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json",
		"https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json",
		"https://purl.imsglobal.org/spec/ob/v3p0/context.json",
		"https://purl.imsglobal.org/spec/ob/v3p0/extensions.json",
		// Data Integrity.
		"cryptosuite", "created", "expires", "verificationMethod", "proofPurpose", "proofValue",
		"challenge", "domain", "previousProof", "nonce", "DataIntegrityProof", "Ed25519Signature2020",
		"eddsa-jcs-2022", "eddsa-rdfc-2022", "assertionMethod", "authentication",
		"https://w3id.org/security/data-integrity/v2",
		"https://w3id.org/security/suites/ed25519-2020/v1",
	} {
		m[s] = s
	}
	return m
}()

// maxVocabularyLen is the length of the longest vocabulary string: longer
// strings (descriptions, signatures) are not looked up.
var maxVocabularyLen = func() int {
	n := 0
	for s := range vocabulary {
		n = max(n, len(s))
	}
	return n
}()

// str reads the string at d.pos. A string without escapes is its input
// text; escapes decode as in encoding/json.
func (d *decoder) str() (string, error) {
	v, err := d.strValue()
	if err != nil {
		return "", err
	}
	return v.(string), nil
}

// strValue reads the string at d.pos as an interface value, shared for
// the vocabulary's strings.
func (d *decoder) strValue() (any, error) {
	d.pos++ // '"'
	start := d.pos
	if d.pos = jsonlex.SkipPlain(d.in, d.pos); d.pos >= len(d.in) {
		return nil, d.errorf("unexpected end of JSON input")
	}
	switch d.in[d.pos] {
	case '"':
		d.pos++
		if d.pos-1-start <= maxVocabularyLen {
			if v, ok := vocabulary[d.in[start:d.pos-1]]; ok {
				return v, nil
			}
		}
		return d.in[start : d.pos-1], nil
	case '\\':
		return d.escaped(start)
	default:
		return nil, d.errorf("invalid control character in string")
	}
}

// escaped finishes reading a string that begins at start and has an escape
// at d.pos.
func (d *decoder) escaped(start int) (any, error) {
	buf := append(make([]byte, 0, d.pos-start+16), d.in[start:d.pos]...)
	for {
		plain := jsonlex.SkipPlain(d.in, d.pos)
		buf = append(buf, d.in[d.pos:plain]...)
		if d.pos = plain; d.pos >= len(d.in) {
			break
		}
		if c := d.in[d.pos]; c == '"' {
			d.pos++
			return string(buf), nil
		} else if c != '\\' {
			return "", d.errorf("invalid control character in string")
		}
		if d.pos+1 >= len(d.in) {
			break
		}
		if b, ok := jsonlex.Unescape(d.in[d.pos+1]); ok {
			buf = append(buf, b)
			d.pos += 2
			continue
		}
		if d.in[d.pos+1] != 'u' {
			return "", d.errorf("invalid escape %q in string", d.in[d.pos:d.pos+2])
		}
		r, ok := jsonlex.UnicodeEscape(d.in, d.pos)
		if !ok {
			return "", d.errorf("invalid \\u escape")
		}
		d.pos += 6
		if utf16.IsSurrogate(r) {
			// A pair decodes to one character; anything else is
			// U+FFFD, and a following escape is read on its own.
			r2, ok := jsonlex.UnicodeEscape(d.in, d.pos)
			if dec := utf16.DecodeRune(r, r2); ok && dec != utf8.RuneError {
				r = dec
				d.pos += 6
			} else {
				r = utf8.RuneError
			}
		}
		buf = utf8.AppendRune(buf, r)
	}
	return "", d.errorf("unexpected end of JSON input")
}
