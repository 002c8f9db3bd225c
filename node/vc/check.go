package vc

import (
	"net/url"
	"slices"
	"strings"
	"time"
)

// CheckOptions tunes Check. The zero value checks a credential as a verifier
// receives it.
type CheckOptions struct {
	// Template: the document is an unsecured template on its way to an
	// issuer (the body of a VC-API "issue" request), not a credential. The
	// issuer fills in its own identity, so issuer may be absent and an
	// issuer object may lack its id (any id given must still be a URL), and
	// VC 1.1 issuanceDate may be absent. In a presentation template, an
	// embedded credential without a proof is one the holder's wallet will
	// still secure, so the self-asserted credential rules are not applied.
	// Default false.
	Template bool
	// Now, when not zero, makes Check also run CheckValidity(Now). Default
	// zero: the validity period is not compared with any clock.
	Now time.Time
}

// Check checks the credential against the VC Data Model rules that need no
// JSON-LD processing: base context first and context entries well formed,
// type includes VerifiableCredential, id/issuer/subject identifiers are
// single URLs, subjects carry claims, dates are XML Schema dateTimes in
// order, and status, schema, evidence, terms of use, refresh services and
// proofs have a type (and ids where required). It returns nil when nothing is
// wrong.
func (c *Credential) Check(opts CheckOptions) []Problem {
	var ps problems
	checkCredential(&ps, "", c.obj, opts)
	if !opts.Now.IsZero() {
		ps = append(ps, c.CheckValidity(opts.Now)...)
	}
	return ps
}

// checkCredential checks one credential object found at path.
func checkCredential(ps *problems, path string, obj map[string]any, opts CheckOptions) {
	ver := checkContext(ps, path, obj)
	checkTypeProp(ps, path, obj, TypeVerifiableCredential)
	checkOptionalID(ps, path, obj)
	checkLanguageProp(ps, path, obj, "name")
	checkLanguageProp(ps, path, obj, "description")
	checkIssuer(ps, path, obj, opts)
	checkSubjects(ps, path, obj)
	checkDates(ps, path, obj, ver, opts)
	// Each entry of these properties is an object with a type; the id rules
	// differ (VCDM 2.0 §4.10–§4.12, §5.4–§5.6).
	checkTyped(ps, path, obj, "credentialStatus", idOptional)
	checkTyped(ps, path, obj, "credentialSchema", idRequired)
	checkTyped(ps, path, obj, "evidence", idOptional)
	checkTyped(ps, path, obj, "termsOfUse", idOptional)
	checkTyped(ps, path, obj, "refreshService", idOptional)
	checkTyped(ps, path, obj, "proof", idUnchecked)
}

// CheckValidity compares the validity period with now: validFrom (1.1:
// issuanceDate) after now is KindNotYetValid, validUntil (1.1:
// expirationDate) before now is KindExpired, both RANGE_ERROR. It is separate
// from Check because a structurally sound credential can be outside its
// period (the test suite's far-future validFrom is "ok" structurally).
// Unparseable or absent dates are left to Check.
func (c *Credential) CheckValidity(now time.Time) []Problem {
	var ps problems
	from, until := "validFrom", "validUntil"
	if c.Version() == Version1 {
		from, until = "issuanceDate", "expirationDate"
	}
	if t, err := c.date(from, from == "validFrom"); err == nil && t.After(now) {
		ps.add(CodeRange, KindNotYetValid, pointer("", from), "not valid before %s", t.Format(time.RFC3339Nano))
	}
	if t, err := c.date(until, until == "validUntil"); err == nil && t.Before(now) {
		ps.add(CodeRange, KindExpired, pointer("", until), "expired at %s", t.Format(time.RFC3339Nano))
	}
	return ps
}

// checkContext checks @context and returns the version it declares.
func checkContext(ps *problems, path string, obj map[string]any) Version {
	p := pointer(path, "@context")
	v, ok := obj["@context"]
	if !ok {
		ps.malformed(KindMissing, p, "@context is required")
		return VersionUnknown
	}
	ctx := list(v)
	if len(ctx) == 0 {
		ps.malformed(KindMissing, p, "@context is empty")
		return VersionUnknown
	}
	ver := versionOf(obj)
	if ver == VersionUnknown {
		ps.malformed(KindBaseContext, pointer(p, 0), "first @context entry must be %q (or %q for VC 1.1)", ContextV2, ContextV1)
	}
	for i, e := range ctx {
		switch t := e.(type) {
		case string:
			if !isURL(t) {
				ps.malformed(KindContextEntry, pointer(p, i), "@context entry %q is not a URL", t)
			}
		case map[string]any:
			checkInlineContext(ps, pointer(p, i), t)
		default:
			ps.malformed(KindContextEntry, pointer(p, i), "@context entry is %s, want a URL or an object", jsonKind(e))
		}
	}
	return ver
}

// checkInlineContext checks the term definitions of an inline context: a
// term mapped to something that is not an IRI cannot expand, so a type or
// property using it means nothing (test suite:
// credential-type-mapped-nonurl-fail). Whether every used term is defined is
// the JSON-LD processor's job.
func checkInlineContext(ps *problems, path string, ctx map[string]any) {
	for _, term := range sortedKeys(ctx) {
		def := ctx[term]
		if strings.HasPrefix(term, "@") {
			continue
		}
		var iri any = def
		if m, ok := def.(map[string]any); ok {
			var has bool
			if iri, has = m["@id"]; !has {
				continue // may take its IRI from @vocab or a prefix
			}
		}
		switch t := iri.(type) {
		case nil:
			// A null mapping explicitly undefines the term.
		case string:
			if !isIRIRef(t) {
				ps.malformed(KindTermDefinition, pointer(path, term), "term %q maps to %q, which is not an IRI", term, t)
			}
		default:
			ps.malformed(KindTermDefinition, pointer(path, term), "term %q maps to %s, want an IRI", term, jsonKind(iri))
		}
	}
}

// checkTypeProp checks that type is present, holds only type names, and
// includes required.
func checkTypeProp(ps *problems, path string, obj map[string]any, required string) {
	p := pointer(path, "type")
	v, ok := obj["type"]
	if !ok {
		ps.malformed(KindMissing, p, "type is required")
		return
	}
	types := checkTypeValues(ps, p, v)
	if !contains(types, required) {
		ps.malformed(KindRequiredType, p, "type must include %q", required)
	}
}

// checkTypeValues checks a type value (a string or an array of strings, each
// a term or an IRI) and returns the strings.
func checkTypeValues(ps *problems, p string, v any) []string {
	var out []string
	_, isArr := v.([]any)
	for i, e := range list(v) {
		// The entry's pointer, built only for a problem: most types are
		// fine, and this runs for every typed object of every credential.
		ep := func() string {
			if isArr {
				return pointer(p, i)
			}
			return p
		}
		s, ok := e.(string)
		if !ok {
			ps.malformed(KindTypeValue, ep(), "type value is %s, want a string", jsonKind(e))
			continue
		}
		if !isIRIRef(s) {
			ps.malformed(KindTypeValue, ep(), "type value %q is neither a term nor an IRI", s)
			continue
		}
		out = append(out, s)
	}
	return out
}

// checkOptionalID checks that id, when present, is a single URL.
func checkOptionalID(ps *problems, path string, obj map[string]any) {
	if v, ok := obj["id"]; ok {
		checkURLValue(ps, pointer(path, "id"), v, "id")
	}
}

// checkURLValue checks that v is one string that is a URL.
func checkURLValue(ps *problems, p string, v any, what string) {
	switch t := v.(type) {
	case string:
		if !isURL(t) {
			ps.malformed(KindNotURL, p, "%s %q is not a URL", what, t)
		}
	case []any:
		ps.malformed(KindNotSingle, p, "%s must be a single URL, got an array", what)
	default:
		ps.malformed(KindNotURL, p, "%s is %s, want a URL", what, jsonKind(v))
	}
}

// checkIssuer: issuer is a URL or an object with a URL id (VCDM 2.0 §4.7).
func checkIssuer(ps *problems, path string, obj map[string]any, opts CheckOptions) {
	p := pointer(path, "issuer")
	v, ok := obj["issuer"]
	if !ok {
		if !opts.Template {
			ps.malformed(KindMissing, p, "issuer is required")
		}
		return
	}
	switch t := v.(type) {
	case string:
		checkURLValue(ps, p, t, "issuer")
	case map[string]any:
		if id, ok := t["id"]; ok {
			checkURLValue(ps, pointer(p, "id"), id, "issuer id")
		} else if !opts.Template {
			ps.malformed(KindMissing, pointer(p, "id"), "issuer object needs an id")
		}
		checkLanguageProp(ps, p, t, "name")
		checkLanguageProp(ps, p, t, "description")
	default:
		ps.malformed(KindWrongShape, p, "issuer is %s, want a URL or an object", jsonKind(v))
	}
}

// checkSubjects: credentialSubject is one or more objects, each with at least
// one claim (an id alone counts: it says the credential is about that
// subject), and a subject id is a single URL.
func checkSubjects(ps *problems, path string, obj map[string]any) {
	p := pointer(path, "credentialSubject")
	v, ok := obj["credentialSubject"]
	if !ok {
		ps.malformed(KindMissing, p, "credentialSubject is required")
		return
	}
	subjects := list(v)
	if len(subjects) == 0 || v == nil {
		ps.malformed(KindMissing, p, "credentialSubject is empty")
		return
	}
	_, isArr := v.([]any)
	for i, e := range subjects {
		sp := p
		if isArr {
			sp = pointer(p, i)
		}
		s, ok := e.(map[string]any)
		if !ok {
			ps.malformed(KindWrongShape, sp, "credentialSubject is %s, want an object", jsonKind(e))
			continue
		}
		if len(s) == 0 {
			ps.malformed(KindEmptySubject, sp, "credentialSubject has no claims")
			continue
		}
		if id, ok := s["id"]; ok {
			checkURLValue(ps, pointer(sp, "id"), id, "credentialSubject id")
		}
	}
}

// checkDates checks the validity period properties of the declared version.
func checkDates(ps *problems, path string, obj map[string]any, ver Version, opts CheckOptions) {
	parse := func(key string, stamp bool) (time.Time, bool) {
		v, ok := obj[key]
		if !ok {
			return time.Time{}, false
		}
		p := pointer(path, key)
		s, ok := v.(string)
		if !ok {
			ps.malformed(KindDateTime, p, "%s is %s, want a dateTime string", key, jsonKind(v))
			return time.Time{}, false
		}
		var t time.Time
		var err error
		if stamp {
			t, err = ParseDateTimeStamp(s)
		} else {
			t, err = ParseDateTime(s)
		}
		if err != nil {
			ps.malformed(KindDateTime, p, "%s %q is not an XML Schema dateTime%s", key, s, map[bool]string{true: " with a timezone", false: ""}[stamp])
			return time.Time{}, false
		}
		return t, true
	}
	// validFrom/validUntil are checked whatever the version: a 1.1
	// credential may carry them too and they must still mean something.
	from, okFrom := parse("validFrom", true)
	until, okUntil := parse("validUntil", true)
	if okFrom && okUntil && until.Before(from) {
		ps.add(CodeRange, KindValidityOrder, pointer(path, "validUntil"), "validUntil %s is before validFrom %s", until.Format(time.RFC3339Nano), from.Format(time.RFC3339Nano))
	}
	_, hasIssuance := obj["issuanceDate"]
	issued, okIssued := parse("issuanceDate", false)
	expires, okExpires := parse("expirationDate", false)
	if ver == Version1 && !hasIssuance && !opts.Template {
		ps.malformed(KindMissing, pointer(path, "issuanceDate"), "issuanceDate is required in VC 1.1")
	}
	if okIssued && okExpires && expires.Before(issued) {
		ps.add(CodeRange, KindValidityOrder, pointer(path, "expirationDate"), "expirationDate is before issuanceDate")
	}
}

// idRule says what checkTyped requires of an entry's id.
type idRule int

const (
	idOptional  idRule = iota // may be absent; if present a single URL
	idRequired                // must be a single URL
	idUnchecked               // not checked (proof ids are the securing spec's)
)

// checkTyped checks a property whose value is one object or an array of
// objects (possibly empty, which states nothing), each with a type.
func checkTyped(ps *problems, path string, obj map[string]any, key string, ids idRule) {
	v, ok := obj[key]
	if !ok {
		return
	}
	p := pointer(path, key)
	_, isArr := v.([]any)
	if v == nil {
		ps.malformed(KindWrongShape, p, "%s is null, want an object", key)
		return
	}
	for i, e := range list(v) {
		ep := p
		if isArr {
			ep = pointer(p, i)
		}
		m, ok := e.(map[string]any)
		if !ok {
			ps.malformed(KindWrongShape, ep, "%s entry is %s, want an object", key, jsonKind(e))
			continue
		}
		// An empty type array states no type either; invalid values are
		// reported by checkTypeValues.
		if t, ok := m["type"]; !ok || len(list(t)) == 0 {
			ps.malformed(KindMissing, pointer(ep, "type"), "%s entry needs a type", key)
		} else {
			checkTypeValues(ps, pointer(ep, "type"), t)
		}
		id, hasID := m["id"]
		switch {
		case ids == idUnchecked:
		case hasID:
			checkURLValue(ps, pointer(ep, "id"), id, key+" id")
		case ids == idRequired:
			ps.malformed(KindMissing, pointer(ep, "id"), "%s entry needs an id", key)
		}
	}
}

// checkLanguageProp checks name or description (VCDM 2.0 §4.6): a string, a
// language value object, or an array of those. A language value object
// holds @value and optionally @language and @direction, nothing else.
func checkLanguageProp(ps *problems, path string, obj map[string]any, key string) {
	v, ok := obj[key]
	if !ok {
		return
	}
	p := pointer(path, key)
	_, isArr := v.([]any)
	for i, e := range list(v) {
		ep := p
		if isArr {
			ep = pointer(p, i)
		}
		switch t := e.(type) {
		case string:
		case map[string]any:
			checkLanguageValue(ps, ep, key, t)
		default:
			ps.malformed(KindLanguageValue, ep, "%s is %s, want a string or a language value object", key, jsonKind(e))
		}
	}
}

func checkLanguageValue(ps *problems, p, key string, m map[string]any) {
	if _, ok := m["@value"].(string); !ok {
		ps.malformed(KindLanguageValue, pointer(p, "@value"), "%s language value needs a string @value", key)
	}
	for _, k := range sortedKeys(m) {
		v := m[k]
		switch k {
		case "@value":
		case "@language":
			if s, ok := v.(string); !ok || !isLanguageTag(s) {
				ps.malformed(KindLanguageValue, pointer(p, k), "%s @language is not a BCP 47 language tag", key)
			}
		case "@direction":
			if v != "ltr" && v != "rtl" {
				ps.malformed(KindLanguageValue, pointer(p, k), `%s @direction must be "ltr" or "rtl"`, key)
			}
		default:
			ps.malformed(KindLanguageValue, pointer(p, k), "%s language value has an extra property %q", key, k)
		}
	}
}

// isLanguageTag checks the BCP 47 shape: alphanumeric subtags of 1–8
// characters separated by hyphens, the first alphabetic. Registry validity
// is not checked.
func isLanguageTag(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i, sub := range strings.Split(s, "-") {
		if len(sub) == 0 || len(sub) > 8 {
			return false
		}
		for j := 0; j < len(sub); j++ {
			c := sub[j] | 0x20
			alpha := 'a' <= c && c <= 'z'
			if !alpha && !(i > 0 && isDigit(sub[j])) {
				return false
			}
		}
	}
	return true
}

// isURL reports whether s is an absolute URL (RFC 3986 with the IRI
// extension of non-ASCII characters): a scheme, then no spaces, controls or
// characters URLs never contain. did:, urn: and data: URLs are URLs here.
func isURL(s string) bool {
	if !isIRIRef(s) {
		return false
	}
	// isIRIRef has parsed s as a URL if it has a scheme.
	colon := strings.IndexByte(s, ':')
	return colon > 0 && isScheme(s[:colon])
}

func isScheme(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		alpha := 'a' <= c|0x20 && c|0x20 <= 'z'
		if !alpha && (i == 0 || !(isDigit(c) || c == '+' || c == '-' || c == '.')) {
			return false
		}
	}
	return s != ""
}

// isIRIRef reports whether s could be a term, compact IRI or IRI: non-empty
// and without the characters RFC 3987 excludes from every IRI reference
// (spaces, controls, <>"{}|\^`).
func isIRIRef(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		// The C1 controls U+0080..U+009F are 0xC2 0x80..0x9F in UTF-8.
		if c := s[i]; notInIRI[c] || c == 0xC2 && i+1 < len(s) && s[i+1] <= 0x9F && s[i+1] >= 0x80 {
			return false
		}
	}
	if i := strings.IndexByte(s, ':'); i > 0 && isScheme(s[:i]) {
		return urlParses(s, i)
	}
	return true
}

// notInIRI marks the ASCII characters no IRI reference has.
var notInIRI = func() (t [256]bool) {
	for c := 0; c <= ' '; c++ {
		t[c] = true
	}
	for _, c := range []byte("\x7f<>\"{}|\\^`") {
		t[c] = true
	}
	return t
}()

// urlParses reports whether url.Parse accepts s, which has a scheme ending
// at colon and none of the characters isIRIRef refuses. Without '%',
// url.Parse can fail only in an authority (//host:port), so a URL with no
// authority (did:…, urn:…) or one of only a host name, the common cases in
// credentials, is answered without it and its allocations.
func urlParses(s string, colon int) bool {
	if strings.IndexByte(s, '%') < 0 {
		rest, ok := strings.CutPrefix(s[colon+1:], "//")
		if !ok && !strings.HasPrefix(rest, "/") {
			return true
		}
		if ok {
			end := strings.IndexAny(rest, "/?#")
			if end < 0 {
				end = len(rest)
			}
			if isHostName(rest[:end]) {
				return true
			}
		}
	}
	_, err := url.Parse(s)
	return err == nil
}

// isHostName reports whether s has only letters, digits, '.', '-', '_' and
// '~', which url.Parse accepts in a host.
func isHostName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c|0x20 && c|0x20 <= 'z' || isDigit(c) || c == '.' || c == '-' || c == '_' || c == '~') {
			return false
		}
	}
	return true
}

// sortedKeys returns m's keys in order, so problems come out in the same
// order on every run.
func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
