package vcjwt_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/credanchor/credanchor/node/vcjwt"
)

func Example() {
	_, priv, _ := ed25519.GenerateKey(nil)
	const kid = "did:example:university#key-1"
	vc := `{"@context":["https://www.w3.org/ns/credentials/v2"],"type":["VerifiableCredential"],
	        "issuer":"did:example:university","credentialSubject":{"id":"did:example:learner"}}`

	token, err := vcjwt.Sign([]byte(vc), priv, kid)
	if err != nil {
		fmt.Println(err)
		return
	}
	// In the node the DID package resolves kid; here one key is known.
	keys := vcjwt.KeyResolverFunc(func(_ context.Context, k, issuer string) (crypto.PublicKey, error) {
		if k != kid {
			return nil, fmt.Errorf("unknown key %q", k)
		}
		return priv.Public(), nil
	})
	t, err := vcjwt.Verify(context.Background(), token, keys, vcjwt.VerifyOptions{})
	if err != nil {
		fmt.Println(vcjwt.Code(err), err)
		return
	}
	fmt.Println(t.Header().Typ, t.Alg(), t.Issuer())

	// Give the credential to someone else: the signature no longer verifies.
	parts := strings.Split(token, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	payload = bytes.Replace(payload, []byte("learner"), []byte("mallory"), 1)
	parts[1] = base64.RawURLEncoding.EncodeToString(payload)
	_, err = vcjwt.Verify(context.Background(), strings.Join(parts, "."), keys, vcjwt.VerifyOptions{})
	fmt.Println(vcjwt.Code(err))
	// Output:
	// vc+jwt EdDSA did:example:university
	// CRYPTOGRAPHIC_SECURITY_ERROR
}
