package vc

import "strings"

// Open Badges 3.0 names.
const (
	TypeOpenBadgeCredential   = "OpenBadgeCredential"
	TypeAchievementCredential = "AchievementCredential"
	TypeAchievementSubject    = "AchievementSubject"
	TypeAchievement           = "Achievement"
	TypeProfile               = "Profile"

	// OBContextPrefix starts every Open Badges 3.0 context URL
	// (context-3.0.1.json, context-3.0.2.json, context-3.0.3.json, …).
	OBContextPrefix = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0."
)

// IsOpenBadge reports whether the credential declares itself an Open Badges
// 3.0 credential (type OpenBadgeCredential or its alias
// AchievementCredential).
func (c *Credential) IsOpenBadge() bool {
	return c.HasType(TypeOpenBadgeCredential) || c.HasType(TypeAchievementCredential)
}

// CheckOpenBadge checks the Open Badges 3.0 requirements on top of Check: an
// OB 3.0 context after the VC base context; an issuer Profile (object with
// id, type Profile and name); each credentialSubject typed
// AchievementSubject with an achievement that has an id, type Achievement, a
// name, a description and criteria (an object with an id or a narrative).
//
// Like the 1EdTech validator it accepts a single value where the OB schema
// wants an array (type: "Achievement"), and it accepts an issuer given as a
// bare URL, as the Digital Credentials Consortium's verifier does: the VC
// model allows it and such badges are in circulation.
func (c *Credential) CheckOpenBadge() []Problem {
	var ps problems
	obc := func(path, format string, args ...any) { ps.malformed(KindOpenBadge, path, format, args...) }
	if !c.IsOpenBadge() {
		obc("/type", "type must include %q or %q", TypeOpenBadgeCredential, TypeAchievementCredential)
	}

	ctx := c.Contexts()
	ob := -1
	for i, e := range ctx {
		if s, ok := e.(string); ok && strings.HasPrefix(s, OBContextPrefix) && strings.HasSuffix(s, ".json") {
			ob = i
			break
		}
	}
	switch {
	case ob < 0:
		obc("/@context", "an Open Badges 3.0 context (%s*.json) is required", OBContextPrefix)
	case ob == 0 || c.Version() == VersionUnknown:
		obc(pointer("/@context", ob), "the Open Badges context must follow the VC base context")
	}

	switch iss := c.obj["issuer"].(type) {
	case string:
		if !isURL(iss) {
			obc("/issuer", "issuer %q is not a URL", iss)
		}
	case map[string]any:
		checkProfile(&ps, "/issuer", iss)
	default:
		obc("/issuer", "issuer must be a Profile")
	}

	subjects := list(c.obj["credentialSubject"])
	if len(subjects) == 0 {
		obc("/credentialSubject", "credentialSubject is required")
	}
	_, isArr := c.obj["credentialSubject"].([]any)
	for i, e := range subjects {
		sp := "/credentialSubject"
		if isArr {
			sp = pointer(sp, i)
		}
		s, ok := e.(map[string]any)
		if !ok {
			obc(sp, "credentialSubject must be an object")
			continue
		}
		if !contains(stringsOf(s["type"]), TypeAchievementSubject) {
			obc(pointer(sp, "type"), "credentialSubject type must include %q", TypeAchievementSubject)
		}
		ap := pointer(sp, "achievement")
		a, ok := s["achievement"].(map[string]any)
		if !ok {
			obc(ap, "credentialSubject needs an achievement object")
			continue
		}
		if id, ok := a["id"].(string); !ok || !isURL(id) {
			obc(pointer(ap, "id"), "achievement needs a URL id")
		}
		if !contains(stringsOf(a["type"]), TypeAchievement) {
			obc(pointer(ap, "type"), "achievement type must include %q", TypeAchievement)
		}
		if plainText(a["name"]) == "" {
			obc(pointer(ap, "name"), "achievement needs a name")
		}
		if plainText(a["description"]) == "" {
			obc(pointer(ap, "description"), "achievement needs a description")
		}
		cr, ok := a["criteria"].(map[string]any)
		if !ok {
			obc(pointer(ap, "criteria"), "achievement needs a criteria object")
			continue
		}
		_, hasID := cr["id"].(string)
		_, hasNarrative := cr["narrative"].(string)
		if !hasID && !hasNarrative {
			obc(pointer(ap, "criteria"), "criteria needs an id or a narrative")
		}
	}
	return ps
}

// checkProfile checks an OB 3.0 Profile: id URL, type Profile, name.
func checkProfile(ps *problems, p string, m map[string]any) {
	if id, ok := m["id"].(string); !ok || !isURL(id) {
		ps.malformed(KindOpenBadge, pointer(p, "id"), "Profile needs a URL id")
	}
	if !contains(stringsOf(m["type"]), TypeProfile) {
		ps.malformed(KindOpenBadge, pointer(p, "type"), "Profile type must include %q", TypeProfile)
	}
	if plainText(m["name"]) == "" {
		ps.malformed(KindOpenBadge, pointer(p, "name"), "Profile needs a name")
	}
}
