package vcjwt

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"encoding/json"
	"fmt"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/cryptosigner"
)

// Sign secures a VCDM 2.0 credential as application/vc+jwt: the payload is
// credentialJSON (compacted, members in their order), the header
// {"alg","kid","typ":"vc+jwt"}. key is an ed25519.PrivateKey (EdDSA), a
// P-256 *ecdsa.PrivateKey (ES256), or any crypto.Signer whose public key is
// one of those (an HSM). kid should be the DID URL of the issuer's
// assertionMethod key; "" leaves it out. The credential must be a JSON
// object with @context and a type including VerifiableCredential, so the
// token reads back as a credential.
func Sign(credentialJSON []byte, key crypto.Signer, kid string) (string, error) {
	payload, err := checkPayload(credentialJSON, KindCredential)
	if err != nil {
		return "", err
	}
	return sign(payload, key, kid, "vc+jwt")
}

// SignPresentation secures a VCDM 2.0 presentation as application/vp+jwt.
// VC-JOSE-COSE makes the payload the presentation itself and has no member
// for a verifier's challenge, so nonce and audience go in as the JWT claims
// "nonce" and "aud" beside the presentation's members (as in OpenID4VP and
// the VCDM 1.1 encoding); "" leaves a claim out. A presentation that already
// has a different nonce or aud is refused. kid should be the DID URL of the
// holder's authentication key.
func SignPresentation(vpJSON []byte, key crypto.Signer, kid, nonce, audience string) (string, error) {
	payload, err := checkPayload(vpJSON, KindPresentation)
	if err != nil {
		return "", err
	}
	if nonce != "" || audience != "" {
		m, err := decodeObject(payload)
		if err != nil {
			return "", err
		}
		claims := map[string]string{"nonce": nonce, "aud": audience}
		var extra bytes.Buffer
		for _, name := range []string{"nonce", "aud"} {
			v := claims[name]
			if v == "" {
				continue
			}
			if old, ok := m[name]; ok {
				var s string
				if json.Unmarshal(old, &s) != nil || s != v {
					return "", fmt.Errorf("%w: presentation already has %s %s", ErrMalformed, name, old)
				}
				continue
			}
			extra.WriteByte(',')
			extra.Write(mustString(name))
			extra.WriteByte(':')
			extra.Write(mustString(v))
		}
		if extra.Len() > 0 {
			// Append before the closing brace so the presentation's members
			// keep their order; checkPayload compacted it, so the last byte
			// is '}' and the object is not empty (it has @context).
			payload = append(append(payload[:len(payload)-1:len(payload)-1], extra.Bytes()...), '}')
		}
	}
	return sign(payload, key, kid, "vp+jwt")
}

// checkPayload compacts a credential or presentation and checks that it
// will parse back as the kind asked.
func checkPayload(doc []byte, want Kind) ([]byte, error) {
	if err := checkJSON(doc); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, doc); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrEncoding, err)
	}
	t := &Token{payload: buf.Bytes()}
	var err error
	if t.members, err = decodeObject(t.payload); err != nil {
		return nil, err
	}
	if _, ok := t.members["@context"]; !ok {
		return nil, fmt.Errorf("%w: no @context: not a VCDM 2.0 %v", ErrMalformed, want)
	}
	kind, err := t.kindFromType()
	if err != nil {
		return nil, err
	}
	if kind != want {
		return nil, fmt.Errorf("%w: type does not make it a %v", ErrKind, want)
	}
	return t.payload, nil
}

func sign(payload []byte, key crypto.Signer, kid, typ string) (string, error) {
	if key == nil {
		return "", fmt.Errorf("%w: no signing key", ErrKeyMismatch)
	}
	var alg jose.SignatureAlgorithm
	switch pub := key.Public().(type) {
	case ed25519.PublicKey:
		alg = jose.EdDSA
	case *ecdsa.PublicKey:
		if pub == nil || pub.Curve != elliptic.P256() {
			return "", fmt.Errorf("%w: ECDSA key not on P-256", ErrKeyMismatch)
		}
		alg = jose.ES256
	default:
		return "", fmt.Errorf("%w: %T signing key (want Ed25519 or P-256)", ErrKeyMismatch, pub)
	}
	var sk any
	switch k := key.(type) {
	case ed25519.PrivateKey, *ecdsa.PrivateKey:
		sk = k
	default:
		sk = cryptosigner.Opaque(key)
	}
	opts := (&jose.SignerOptions{}).WithType(jose.ContentType(typ))
	if kid != "" {
		opts = opts.WithHeader(jose.HeaderKey("kid"), kid)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: sk}, opts)
	if err != nil {
		return "", fmt.Errorf("vcjwt: signer: %w", err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("vcjwt: signing: %w", err)
	}
	token, err := jws.CompactSerialize()
	if err != nil {
		return "", fmt.Errorf("vcjwt: serialising: %w", err)
	}
	// Read it back with the same rules a verifier uses, so a token this
	// package makes is one it accepts (size bound included).
	if _, err := Parse(token); err != nil {
		return "", err
	}
	return token, nil
}
