package vc

import (
	"strings"
)

// Presentation is a parsed verifiable presentation, kept as decoded.
type Presentation struct {
	raw string
	obj map[string]any
}

// ParsePresentation parses a presentation with the same strictness as
// ParseCredential, and shares its decoded object as ParseCredential does.
// Errors wrap ErrParse.
func ParsePresentation(data []byte) (*Presentation, error) {
	obj, text, err := parseShared(data)
	if err != nil {
		return nil, err
	}
	return &Presentation{raw: text, obj: obj}, nil
}

// Raw returns a copy of the bytes the presentation was parsed from.
func (p *Presentation) Raw() []byte { return []byte(p.raw) }

// Object returns the decoded document; do not modify.
func (p *Presentation) Object() map[string]any { return p.obj }

// Version reports the data model version from the first @context entry.
func (p *Presentation) Version() Version { return versionOf(p.obj) }

// Contexts returns the @context entries.
func (p *Presentation) Contexts() []any { return list(p.obj["@context"]) }

// ID returns the presentation's id, or "".
func (p *Presentation) ID() string { s, _ := p.obj["id"].(string); return s }

// Types returns the string values of type.
func (p *Presentation) Types() []string { return stringsOf(p.obj["type"]) }

// Holder returns the holder's URL: the string, or the id of the holder
// object. "" if absent.
func (p *Presentation) Holder() string { return idOf(p.obj["holder"]) }

// Proof returns the presentation's embedded proofs as decoded.
func (p *Presentation) Proof() []map[string]any { return objectsOf(p.obj["proof"]) }

// Credentials returns the embedded credentials (enveloped ones excluded;
// see EnvelopedCredentials).
func (p *Presentation) Credentials() []*Credential {
	var out []*Credential
	for _, m := range objectsOf(p.obj["verifiableCredential"]) {
		if !isEnveloped(m) {
			out = append(out, credentialFromObject(m))
		}
	}
	return out
}

// EnvelopedCredentials returns the id (a data: URL holding, for instance, a
// VC-JWT) of every EnvelopedVerifiableCredential in verifiableCredential.
func (p *Presentation) EnvelopedCredentials() []string {
	var out []string
	for _, m := range objectsOf(p.obj["verifiableCredential"]) {
		if isEnveloped(m) {
			if id, ok := m["id"].(string); ok {
				out = append(out, id)
			}
		}
	}
	return out
}

// Check checks the presentation (VCDM 2.0 §4.13): base context, type
// including VerifiablePresentation, id a single URL, holder a URL or an
// object with a URL id, verifiableCredential entries objects (never strings:
// a bare JWT must be wrapped in an EnvelopedVerifiableCredential), each
// embedded credential checked with Credential.Check and each enveloped one
// a data: URL of a VC media type, proofs typed.
//
// Unless opts.Template is set, an embedded credential without a proof of its
// own is secured only by the presentation's proof, so it is a self-asserted
// credential of the holder (VCDM 2.0 §4.13.4 "Presentations Including Holder
// Claims"): the presentation must then have a holder, and the credential's
// issuer must be that holder. opts.Now, if set, is applied to every embedded
// credential.
func (p *Presentation) Check(opts CheckOptions) []Problem {
	var ps problems
	checkContext(&ps, "", p.obj)
	checkTypeProp(&ps, "", p.obj, TypeVerifiablePresentation)
	checkOptionalID(&ps, "", p.obj)
	checkHolder(&ps, p.obj)
	checkTyped(&ps, "", p.obj, "proof", idUnchecked)

	v, ok := p.obj["verifiableCredential"]
	if !ok {
		return ps
	}
	base := pointer("", "verifiableCredential")
	_, isArr := v.([]any)
	holder, hasHolder := p.obj["holder"]
	for i, e := range list(v) {
		ep := base
		if isArr {
			ep = pointer(base, i)
		}
		m, ok := e.(map[string]any)
		if s, isStr := e.(string); isStr && versionOf(p.obj) == Version1 && isCompactJWS(s) {
			// VC 1.1 §6.3.1 puts JWT-encoded credentials in a JWT
			// presentation's verifiableCredential as strings; VCDM 2.0
			// forbids it (test suite: presentation-vc-as-string-fail).
			continue
		}
		if !ok {
			ps.malformed(KindWrongShape, ep, "verifiableCredential entry is %s, want a credential object (wrap a JWT in an %s)", jsonKind(e), TypeEnvelopedVerifiableCredential)
			continue
		}
		if isEnveloped(m) {
			checkEnveloped(&ps, ep, m)
			continue
		}
		checkCredential(&ps, ep, m, opts)
		if !opts.Now.IsZero() {
			for _, q := range credentialFromObject(m).CheckValidity(opts.Now) {
				q.Path = ep + q.Path
				ps = append(ps, q)
			}
		}
		if _, secured := m["proof"]; secured || opts.Template {
			continue
		}
		// Self-asserted: secured only by the presentation's own proof.
		if !hasHolder {
			ps.add(CodeMalformedValue, KindHolderClaims, pointer("", "holder"), "a presentation with a self-asserted credential (%s has no proof) must have a holder", ep)
			continue
		}
		if iss, hid := idOf(m["issuer"]), idOf(holder); iss != hid {
			ps.add(CodeMalformedValue, KindHolderClaims, pointer(ep, "issuer"), "self-asserted credential's issuer %q is not the holder %q", iss, hid)
		}
	}
	return ps
}

// checkHolder: holder, if present, is a URL or an object with a URL id.
func checkHolder(ps *problems, obj map[string]any) {
	v, ok := obj["holder"]
	if !ok {
		return
	}
	p := pointer("", "holder")
	switch t := v.(type) {
	case string:
		checkURLValue(ps, p, t, "holder")
	case map[string]any:
		id, ok := t["id"]
		if !ok {
			ps.malformed(KindMissing, pointer(p, "id"), "holder object needs an id")
			return
		}
		checkURLValue(ps, pointer(p, "id"), id, "holder id")
	default:
		ps.malformed(KindWrongShape, p, "holder is %s, want a URL or an object", jsonKind(v))
	}
}

// isEnveloped reports whether an entry declares itself an enveloped
// credential.
func isEnveloped(m map[string]any) bool {
	return contains(stringsOf(m["type"]), TypeEnvelopedVerifiableCredential)
}

// checkEnveloped checks an EnvelopedVerifiableCredential (VCDM 2.0
// §4.13.1): an @context with the base context, and an id that is a data:
// URL whose media type is a secured VC one (application/vc+jwt,
// vc+sd-jwt, vc+cose, the older vc-ld+jwt, …). The envelope's content is the
// securing mechanism's to verify.
func checkEnveloped(ps *problems, p string, m map[string]any) {
	if ver := checkContext(ps, p, m); ver == Version1 {
		ps.malformed(KindEnvelope, pointer(p, "@context"), "an enveloped credential needs the VC 2.0 base context")
	}
	id, ok := m["id"].(string)
	if !ok {
		ps.malformed(KindEnvelope, pointer(p, "id"), "an enveloped credential needs a data: URL id")
		return
	}
	if !isVCDataURL(id) {
		ps.malformed(KindEnvelope, pointer(p, "id"), "enveloped credential id is not a data: URL of a verifiable credential media type")
	}
}

// isVCDataURL reports whether s is "data:application/vc…[;params],payload"
// with a non-empty payload.
func isVCDataURL(s string) bool {
	rest, ok := strings.CutPrefix(s, "data:")
	if !ok {
		return false
	}
	header, payload, ok := strings.Cut(rest, ",")
	if !ok || payload == "" {
		return false
	}
	mediaType, _, _ := strings.Cut(header, ";")
	mediaType = strings.ToLower(mediaType)
	return strings.HasPrefix(mediaType, "application/vc+") || strings.HasPrefix(mediaType, "application/vc-ld+") || mediaType == "application/vc"
}

// isCompactJWS reports whether s has the shape of a JWS compact
// serialisation: three base64url segments, the first two non-empty.
func isCompactJWS(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" {
		return false
	}
	for _, part := range parts {
		for i := 0; i < len(part); i++ {
			c := part[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || isDigit(c) || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// idOf returns a string value, or the string id of an object value.
func idOf(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case map[string]any:
		s, _ := t["id"].(string)
		return s
	}
	return ""
}
