package vcjwt

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// MaxTokenSize bounds the compact serialisation Parse accepts (1 MiB). A
// credential with an embedded image can reach a few hundred KiB; the bound
// keeps a hostile token from costing more than a few milliseconds.
const MaxTokenSize = 1 << 20

// Form tells which encoding a token uses.
type Form int

const (
	// FormVCDM2 is VC-JOSE-COSE for VC Data Model 2.0: the payload is the
	// credential or presentation itself.
	FormVCDM2 Form = iota + 1
	// FormVCDM11 is the VC Data Model 1.1 JWT encoding: the credential is in
	// the "vc" claim, the presentation in "vp".
	FormVCDM11
)

func (f Form) String() string {
	switch f {
	case FormVCDM2:
		return "VCDM 2.0"
	case FormVCDM11:
		return "VCDM 1.1"
	}
	return "Form(" + strconv.Itoa(int(f)) + ")"
}

// Kind tells whether a token secures a credential or a presentation.
type Kind int

const (
	// KindCredential: a verifiable credential (vc+jwt, or a "vc" claim).
	KindCredential Kind = iota + 1
	// KindPresentation: a verifiable presentation (vp+jwt, or a "vp" claim).
	KindPresentation
)

func (k Kind) String() string {
	switch k {
	case KindCredential:
		return "credential"
	case KindPresentation:
		return "presentation"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Header is the JOSE header fields the package understands. Other fields
// (jwk, x5c, jku, ...) are allowed and ignored: keys come only from the
// [KeyResolver].
type Header struct {
	Alg string `json:"alg"`
	Kid string `json:"kid,omitempty"`
	Typ string `json:"typ,omitempty"`
	Cty string `json:"cty,omitempty"`
}

// Claims are the JWT registered claims found in the payload, plus the nonce
// of a presentation. A zero time means the claim is absent.
type Claims struct {
	Issuer    string
	Subject   string
	ID        string // jti
	NotBefore time.Time
	Expiry    time.Time
	IssuedAt  time.Time
	Audience  []string
	Nonce     string
	HasNonce  bool
}

// Token is a parsed, not yet verified, VC-JWT. Its methods never return data
// the caller can use to change the token.
type Token struct {
	raw       string
	header    Header
	payload   []byte
	members   map[string]json.RawMessage // top-level payload members
	claims    Claims
	form      Form
	kind      Kind
	signature []byte
}

// Parse decodes a compact JWS holding a VC-JWT without verifying it: exactly
// three segments of unpadded, canonical base64url; a header that is a JSON
// object with a string alg and no crit or b64 parameter; a payload that is a
// JSON object in the VCDM 2.0 form (with "@context") or the VCDM 1.1 form
// (with "vc" or "vp"). The signature segment may be empty (an unsecured
// token parses; [Verify] refuses it). Errors wrap [ErrTooLarge],
// [ErrEncoding] or [ErrMalformed].
func Parse(token string) (*Token, error) {
	if len(token) > MaxTokenSize {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(token), MaxTokenSize)
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("%w: got %d segments, want 3", ErrEncoding, len(parts))
	}
	hb, err := decodeSegment("header", parts[0])
	if err != nil {
		return nil, err
	}
	pb, err := decodeSegment("payload", parts[1])
	if err != nil {
		return nil, err
	}
	sig, err := decodeSegment("signature", parts[2])
	if err != nil {
		return nil, err
	}
	if len(hb) == 0 || len(pb) == 0 {
		return nil, fmt.Errorf("%w: empty header or payload", ErrEncoding)
	}
	t := &Token{raw: token, payload: pb, signature: sig}
	if err := t.parseHeader(hb); err != nil {
		return nil, err
	}
	if err := checkJSON(pb); err != nil {
		return nil, fmt.Errorf("payload: %w", err)
	}
	if t.members, err = decodeObject(pb); err != nil {
		return nil, fmt.Errorf("payload: %w", err)
	}
	if err := t.parseClaims(); err != nil {
		return nil, err
	}
	if err := t.detectForm(); err != nil {
		return nil, err
	}
	return t, nil
}

// strictB64 refuses padding and non-zero trailing bits, so a segment has one
// encoding only and a token cannot be altered without changing its bytes'
// meaning (its digest is the credential's digest).
var strictB64 = base64.RawURLEncoding.Strict()

func decodeSegment(name, s string) ([]byte, error) {
	// encoding/base64 skips CR and LF even in strict mode; a token with
	// them is another string with the same meaning, so refuse them here.
	for i := 0; i < len(s); i++ {
		if !isB64URL(s[i]) {
			return nil, fmt.Errorf("%w: %s has byte %q at %d, not base64url", ErrEncoding, name, s[i], i)
		}
	}
	b, err := strictB64.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %s is not unpadded base64url: %v", ErrEncoding, name, err)
	}
	return b, nil
}

func isB64URL(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

func (t *Token) parseHeader(hb []byte) error {
	if err := checkJSON(hb); err != nil {
		return fmt.Errorf("header: %w", err)
	}
	m, err := decodeObject(hb)
	if err != nil {
		return fmt.Errorf("header: %w", err)
	}
	alg, ok, err := stringMember(m, "alg")
	if err != nil {
		return fmt.Errorf("header: %w", err)
	}
	if !ok || alg == "" {
		return fmt.Errorf("%w: header has no alg", ErrMalformed)
	}
	t.header.Alg = alg
	for name, dst := range map[string]*string{"kid": &t.header.Kid, "typ": &t.header.Typ, "cty": &t.header.Cty} {
		if *dst, _, err = stringMember(m, name); err != nil {
			return fmt.Errorf("header: %w", err)
		}
	}
	if raw, ok := m["crit"]; ok {
		// RFC 7515 §4.1.11: a recipient must refuse a critical extension it
		// does not understand, and this package understands none.
		var crit []string
		if err := json.Unmarshal(raw, &crit); err != nil || crit == nil {
			return fmt.Errorf("%w: header crit is not an array of strings", ErrMalformed)
		}
		if len(crit) > 0 {
			return fmt.Errorf("%w: header has critical extensions %q", ErrMalformed, crit)
		}
	}
	if _, ok := m["b64"]; ok {
		// RFC 7797 unencoded payloads change the signing input; go-jose
		// honours b64 even without crit, so refuse it outright.
		return fmt.Errorf("%w: header has b64", ErrMalformed)
	}
	return nil
}

// maxNumericDate is 9999-12-31T23:59:59Z, the last instant an XSD dateTime
// with a four-digit year can name.
const maxNumericDate = 253402300799

// numericDate parses a JWT NumericDate (RFC 7519 §2): a JSON number of
// seconds since the epoch, possibly fractional.
func numericDate(name string, raw json.RawMessage) (time.Time, error) {
	s := string(bytes.TrimSpace(raw))
	if s == "" || (s[0] != '-' && (s[0] < '0' || s[0] > '9')) {
		return time.Time{}, fmt.Errorf("%w: %s is not a number", ErrMalformed, name)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || f < 0 || f > maxNumericDate {
		return time.Time{}, fmt.Errorf("%w: %s is not a date in 0..%d", ErrMalformed, name, int64(maxNumericDate))
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(math.Round(frac*1e9))).UTC(), nil
}

func (t *Token) parseClaims() error {
	c := &t.claims
	var err error
	for name, dst := range map[string]*string{"iss": &c.Issuer, "sub": &c.Subject, "jti": &c.ID} {
		if *dst, _, err = stringMember(t.members, name); err != nil {
			return err
		}
	}
	if c.Nonce, c.HasNonce, err = stringMember(t.members, "nonce"); err != nil {
		return err
	}
	for name, dst := range map[string]*time.Time{"nbf": &c.NotBefore, "exp": &c.Expiry, "iat": &c.IssuedAt} {
		if raw, ok := t.members[name]; ok {
			if *dst, err = numericDate(name, raw); err != nil {
				return err
			}
		}
	}
	if raw, ok := t.members["aud"]; ok {
		aud, ok := stringsOf(raw)
		if !ok {
			return fmt.Errorf("%w: aud is not a string or an array of strings", ErrMalformed)
		}
		c.Audience = aud
	}
	return nil
}

// normType reduces a typ or cty value to its subtype: RFC 7515 §4.1.9 lets
// "application/" be left out and media types compare case-insensitively.
func normType(s string) string {
	s = strings.ToLower(s)
	return strings.TrimPrefix(s, "application/")
}

// typKind maps the typ values of VC-JOSE-COSE (and of its drafts, which used
// "+ld") to the kind they announce; "jwt" and "" announce nothing.
func typKind(typ string) (Kind, bool, error) {
	switch normType(typ) {
	case "", "jwt":
		return 0, false, nil
	case "vc+jwt", "vc+ld+jwt", "vc-ld+jwt":
		return KindCredential, true, nil
	case "vp+jwt", "vp+ld+jwt", "vp-ld+jwt":
		return KindPresentation, true, nil
	}
	return 0, false, fmt.Errorf("%w: unknown typ %q", ErrMalformed, typ)
}

func ctyKind(cty string) (Kind, bool, error) {
	switch normType(cty) {
	case "":
		return 0, false, nil
	case "vc", "vc+ld+json":
		return KindCredential, true, nil
	case "vp", "vp+ld+json":
		return KindPresentation, true, nil
	}
	return 0, false, fmt.Errorf("%w: unknown cty %q", ErrMalformed, cty)
}

// detectForm decides between the VCDM 2.0 and 1.1 forms and between
// credential and presentation, refusing any contradiction among the payload,
// typ and cty.
func (t *Token) detectForm() error {
	_, hasCtx := t.members["@context"]
	vc, hasVC := t.members["vc"]
	vp, hasVP := t.members["vp"]
	var kind Kind
	switch {
	case hasCtx:
		t.form = FormVCDM2
		var err error
		if kind, err = t.kindFromType(); err != nil {
			return err
		}
	case hasVC && hasVP:
		return fmt.Errorf("%w: payload has both vc and vp", ErrMalformed)
	case hasVC || hasVP:
		t.form = FormVCDM11
		kind = KindCredential
		obj := vc
		if hasVP {
			kind, obj = KindPresentation, vp
		}
		if !bytes.HasPrefix(bytes.TrimSpace(obj), []byte("{")) {
			return fmt.Errorf("%w: %s claim is not an object", ErrMalformed, map[Kind]string{KindCredential: "vc", KindPresentation: "vp"}[kind])
		}
	default:
		return fmt.Errorf("%w: payload has neither @context nor a vc or vp claim", ErrMalformed)
	}

	tk, typed, err := typKind(t.header.Typ)
	if err != nil {
		return err
	}
	if typed && t.form == FormVCDM11 {
		// vc+jwt promises that the payload is the credential; a 1.1 payload
		// under it would be read differently by 2.0 verifiers.
		return fmt.Errorf("%w: typ %q on a VCDM 1.1 payload", ErrMalformed, t.header.Typ)
	}
	ck, ctyped, err := ctyKind(t.header.Cty)
	if err != nil {
		return err
	}
	if kind == 0 {
		// A 2.0 payload whose type names neither base type: only the
		// header can tell.
		switch {
		case typed:
			kind = tk
		case ctyped:
			kind = ck
		default:
			return fmt.Errorf("%w: type has neither VerifiableCredential nor VerifiablePresentation", ErrMalformed)
		}
	}
	if (typed && tk != kind) || (ctyped && ck != kind) {
		return fmt.Errorf("%w: header typ %q / cty %q contradict a %v payload", ErrMalformed, t.header.Typ, t.header.Cty, kind)
	}
	t.kind = kind

	if t.form == FormVCDM11 {
		// Map now, so that a token that parses always yields its credential
		// (a sub claim with several subjects cannot be mapped).
		var err error
		if t.kind == KindCredential {
			_, err = t.Credential()
		} else {
			_, err = t.Presentation()
		}
		if err != nil {
			return err
		}
	}
	if t.form == FormVCDM2 && t.claims.Issuer != "" {
		// VC-JOSE-COSE: iss, when present, names the same party as issuer
		// (holder); a token saying two things must not be read either way.
		if id, ok := t.vcdm2Issuer(); ok && id != t.claims.Issuer {
			return fmt.Errorf("%w: iss %q differs from %s %q", ErrMalformed, t.claims.Issuer, t.issuerMember(), id)
		}
	}
	return nil
}

// kindFromType reads a 2.0 payload's type; 0 means neither base type.
func (t *Token) kindFromType() (Kind, error) {
	raw, ok := t.members["type"]
	if !ok {
		return 0, nil
	}
	types, ok := stringsOf(raw)
	if !ok {
		return 0, fmt.Errorf("%w: type is not a string or an array of strings", ErrMalformed)
	}
	isVC := slices.Contains(types, "VerifiableCredential")
	isVP := slices.Contains(types, "VerifiablePresentation")
	switch {
	case isVC && isVP:
		return 0, fmt.Errorf("%w: type has both VerifiableCredential and VerifiablePresentation", ErrMalformed)
	case isVC:
		return KindCredential, nil
	case isVP:
		return KindPresentation, nil
	}
	return 0, nil
}

func (t *Token) issuerMember() string {
	if t.kind == KindPresentation {
		return "holder"
	}
	return "issuer"
}

func (t *Token) vcdm2Issuer() (string, bool) {
	raw, ok := t.members[t.issuerMember()]
	if !ok {
		return "", false
	}
	return idOf(raw)
}

// Raw returns the compact serialisation.
func (t *Token) Raw() string { return t.raw }

// Digest returns SHA-256 of the compact serialisation, the digest credanchor
// anchors for a VC-JWT.
func (t *Token) Digest() [32]byte { return sha256.Sum256([]byte(t.raw)) }

// Header returns the parsed header fields.
func (t *Token) Header() Header { return t.header }

// Alg returns the header's alg.
func (t *Token) Alg() string { return t.header.Alg }

// Kid returns the header's kid ("" if absent).
func (t *Token) Kid() string { return t.header.Kid }

// Form tells whether the token uses the VCDM 2.0 or 1.1 encoding.
func (t *Token) Form() Form { return t.form }

// Kind tells whether the token secures a credential or a presentation.
func (t *Token) Kind() Kind { return t.kind }

// Claims returns the JWT registered claims and the nonce.
func (t *Token) Claims() Claims {
	c := t.claims
	c.Audience = slices.Clone(c.Audience)
	return c
}

// Payload returns a copy of the decoded payload.
func (t *Token) Payload() []byte { return bytes.Clone(t.payload) }

// Issuer returns who signed the token: for a credential its issuer (or
// issuer.id), for a presentation its holder (or holder.id). The iss claim
// stands in when the credential has none, and in the 1.1 form iss wins, as
// the 1.1 decoding rules set issuer from it. "" means none is named.
func (t *Token) Issuer() string {
	if t.form == FormVCDM11 {
		if t.claims.Issuer != "" {
			return t.claims.Issuer
		}
		var inner map[string]json.RawMessage
		if json.Unmarshal(t.members[map[Kind]string{KindCredential: "vc", KindPresentation: "vp"}[t.kind]], &inner) == nil {
			if id, ok := idOf(inner[t.issuerMember()]); ok {
				return id
			}
		}
		return ""
	}
	if id, ok := t.vcdm2Issuer(); ok {
		return id
	}
	return t.claims.Issuer
}
