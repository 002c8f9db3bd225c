package vcjwt

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// contextV2 is the base context of VC Data Model 2.0.
const contextV2 = "https://www.w3.org/ns/credentials/v2"

// Credential returns the credential the token secures, as JSON. In the VCDM
// 2.0 form that is the payload as signed (any JWT claims beside the
// credential stay in it). In the 1.1 form it is the "vc" claim with the JWT
// claims written into it as VCDM 1.1 §6.3.1 says: jti sets id, iss sets
// issuer (issuer.id when issuer is an object), sub sets credentialSubject.id,
// nbf sets issuanceDate and exp expirationDate, as XSD dateTimes. A claim
// wins over the member it sets. A "vc" whose @context is the 2.0 one (as in
// the W3C 2.0 test suite) gets validFrom and validUntil instead of the 1.1
// names. A presentation token gives [ErrKind].
func (t *Token) Credential() ([]byte, error) {
	if t.kind != KindCredential {
		return nil, fmt.Errorf("%w: the token secures a %v", ErrKind, t.kind)
	}
	if t.form == FormVCDM2 {
		return bytes.Clone(t.payload), nil
	}
	vc, err := decodeObject(t.members["vc"])
	if err != nil {
		return nil, fmt.Errorf("vc claim: %w", err)
	}
	c := t.claims
	if c.ID != "" {
		vc["id"] = mustString(c.ID)
	}
	if c.Issuer != "" {
		if vc["issuer"], err = setID(vc["issuer"], c.Issuer); err != nil {
			return nil, fmt.Errorf("vc issuer: %w", err)
		}
	}
	if c.Subject != "" {
		if vc["credentialSubject"], err = setSubjectID(vc["credentialSubject"], c.Subject); err != nil {
			return nil, err
		}
	}
	from, until := "issuanceDate", "expirationDate"
	if hasContext(vc["@context"], contextV2) {
		from, until = "validFrom", "validUntil"
	}
	if !c.NotBefore.IsZero() {
		vc[from] = mustString(xsdDateTime(c.NotBefore))
	}
	if !c.Expiry.IsZero() {
		vc[until] = mustString(xsdDateTime(c.Expiry))
	}
	return marshal(vc)
}

// Presentation returns the presentation the token secures, as JSON: the
// payload in the 2.0 form (nonce and aud claims included); in the 1.1 form
// the "vp" claim with jti set as id and iss as holder (VCDM 1.1 §6.3.1). A
// credential token gives [ErrKind].
func (t *Token) Presentation() ([]byte, error) {
	if t.kind != KindPresentation {
		return nil, fmt.Errorf("%w: the token secures a %v", ErrKind, t.kind)
	}
	if t.form == FormVCDM2 {
		return bytes.Clone(t.payload), nil
	}
	vp, err := decodeObject(t.members["vp"])
	if err != nil {
		return nil, fmt.Errorf("vp claim: %w", err)
	}
	if t.claims.ID != "" {
		vp["id"] = mustString(t.claims.ID)
	}
	if t.claims.Issuer != "" {
		if vp["holder"], err = setID(vp["holder"], t.claims.Issuer); err != nil {
			return nil, fmt.Errorf("vp holder: %w", err)
		}
	}
	return marshal(vp)
}

// xsdDateTime formats t as an XSD dateTimeStamp in UTC, with fractional
// seconds only when it has them.
func xsdDateTime(t time.Time) string {
	return t.UTC().Format(time.RFC3339Nano)
}

// mustString encodes a Go string as JSON; a string always encodes.
func mustString(s string) json.RawMessage {
	b, _ := marshal(s)
	return b
}

// marshal encodes without HTML escaping, so strings in the credential keep
// their characters.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// setID sets a property that is either an id string or an object with an
// id (issuer, holder): an object keeps its other members.
func setID(raw json.RawMessage, id string) (json.RawMessage, error) {
	if bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{")) {
		obj, err := decodeObject(raw)
		if err != nil {
			return nil, err
		}
		obj["id"] = mustString(id)
		return marshal(obj)
	}
	return mustString(id), nil
}

// setSubjectID sets credentialSubject.id. sub names one subject, so a
// credential with several subjects cannot take it.
func setSubjectID(raw json.RawMessage, sub string) (json.RawMessage, error) {
	trimmed := bytes.TrimSpace(raw)
	switch {
	case len(trimmed) == 0:
		return marshal(map[string]string{"id": sub})
	case trimmed[0] == '{':
		return setID(raw, sub)
	case trimmed[0] == '[':
		var subjects []json.RawMessage
		if err := json.Unmarshal(raw, &subjects); err != nil || len(subjects) != 1 || !bytes.HasPrefix(bytes.TrimSpace(subjects[0]), []byte("{")) {
			return nil, fmt.Errorf("%w: sub claim with credentialSubject not a single object", ErrMalformed)
		}
		one, err := setID(subjects[0], sub)
		if err != nil {
			return nil, err
		}
		return marshal([]json.RawMessage{one})
	}
	return nil, fmt.Errorf("%w: credentialSubject is not an object", ErrMalformed)
}

// hasContext reports whether a @context value (a string or an array of
// strings and objects) holds url.
func hasContext(raw json.RawMessage, url string) bool {
	var s string
	if isJSONString(raw) && json.Unmarshal(raw, &s) == nil {
		return s == url
	}
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) != nil {
		return false
	}
	for _, e := range list {
		if isJSONString(e) && json.Unmarshal(e, &s) == nil && s == url {
			return true
		}
	}
	return false
}
