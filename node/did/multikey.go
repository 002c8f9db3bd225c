package did

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"fmt"

	"github.com/mr-tron/base58"
)

// Multikey (W3C Controlled Identifiers 1.0 §2.2.2) encodes a key as the
// multibase base58btc header "z" followed by base58btc(multicodec varint ||
// raw key bytes).
const (
	// multibaseBase58BTC is the multibase header of base58btc, the only base
	// Multikey allows for Ed25519 keys.
	multibaseBase58BTC = 'z'
	// ed25519PubPrefix is the varint of multicodec 0xed (ed25519-pub).
	ed25519PubPrefix = "\xed\x01"
	// ed25519PrivPrefix is the varint of multicodec 0x1300 (ed25519-priv); the
	// W3C vc-di-eddsa keyPair.json uses it for secretKeyMultibase.
	ed25519PrivPrefix = "\x80\x26"
	// maxMultibaseLen bounds the input before base58 decoding, whose cost is
	// quadratic in the length. An Ed25519 multikey is 48 characters; the bound
	// leaves room to name the codec of the longer keys we reject (P-384 is
	// about 70).
	maxMultibaseLen = 256
)

// multicodecNames names the key codecs a caller is likely to meet, so that the
// error for an unsupported key says what it was.
var multicodecNames = map[uint64]string{
	0xe7:   "secp256k1-pub",
	0xec:   "x25519-pub",
	0xed:   "ed25519-pub",
	0xeb:   "bls12_381-g2-pub",
	0x1200: "p256-pub",
	0x1201: "p384-pub",
	0x1202: "p521-pub",
	0x1205: "rsa-pub",
	0x1300: "ed25519-priv",
	0x1301: "secp256k1-priv",
	0x1302: "x25519-priv",
	0x1306: "p256-priv",
}

// EncodeMultikeyEd25519 returns the Multikey encoding of an Ed25519 public
// key: "z6Mk…". It is also the did:key method-specific id of that key. It
// returns "" if pub is not 32 bytes, since no encoding of such a key exists.
func EncodeMultikeyEd25519(pub ed25519.PublicKey) string {
	if len(pub) != ed25519.PublicKeySize {
		return ""
	}
	return encodeMultibase(ed25519PubPrefix, pub)
}

// DecodeMultikey decodes an Ed25519 Multikey ("z6Mk…") into the public key.
// Malformed input, including an unknown multicodec, wraps [ErrInvalidKey]; a
// key of another known type (P-256 "zDn…", secp256k1 "zQ3s…", X25519 "z6LS…",
// an ed25519-priv secret key) wraps [ErrUnsupportedKey] and names the codec.
func DecodeMultikey(s string) (ed25519.PublicKey, error) {
	if key, ok := multikeys.get(s); ok {
		return ed25519.PublicKey(key[:]), nil
	}
	raw, err := decodeMultibase(s)
	if err != nil {
		return nil, err
	}
	key, err := cutCodec(raw, ed25519PubPrefix, ed25519.PublicKeySize)
	if err != nil {
		return nil, err
	}
	multikeys.put(s, [ed25519.PublicKeySize]byte(key))
	return ed25519.PublicKey(key), nil
}

// multikeys caches DecodeMultikey's keys; an array value, so that every
// caller gets a copy of its own.
var multikeys boundedCache[[ed25519.PublicKeySize]byte]

// EncodeMultikeySecretEd25519 returns the secret-key Multikey of an Ed25519
// private key: "z3u2…", the ed25519-priv multicodec followed by the 32-byte
// seed (not the 64-byte seed||public form Go uses). It returns "" if priv is
// not 64 bytes.
func EncodeMultikeySecretEd25519(priv ed25519.PrivateKey) string {
	if len(priv) != ed25519.PrivateKeySize {
		return ""
	}
	return encodeMultibase(ed25519PrivPrefix, priv.Seed())
}

// DecodeMultikeySecretEd25519 decodes a secret-key Multikey ("z3u2…") and
// returns the full Ed25519 private key derived from its seed. Errors wrap
// [ErrInvalidKey] or [ErrUnsupportedKey] as for [DecodeMultikey].
func DecodeMultikeySecretEd25519(s string) (ed25519.PrivateKey, error) {
	raw, err := decodeMultibase(s)
	if err != nil {
		return nil, err
	}
	seed, err := cutCodec(raw, ed25519PrivPrefix, ed25519.SeedSize)
	if err != nil {
		return nil, err
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

func encodeMultibase(prefix string, key []byte) string {
	buf := make([]byte, 0, len(prefix)+len(key))
	buf = append(buf, prefix...)
	buf = append(buf, key...)
	return string(multibaseBase58BTC) + base58.Encode(buf)
}

// decodeMultibase decodes a base58btc multibase string.
func decodeMultibase(s string) ([]byte, error) {
	switch {
	case s == "":
		return nil, fmt.Errorf("%w: empty multibase value", ErrInvalidKey)
	case len(s) > maxMultibaseLen:
		return nil, fmt.Errorf("%w: multibase value is %d characters, want at most %d", ErrInvalidKey, len(s), maxMultibaseLen)
	case s[0] != multibaseBase58BTC:
		// Multikey fixes the base: other multibase headers (u, m, f…) are
		// not an alternative spelling of the same key but a malformed one.
		return nil, fmt.Errorf("%w: multibase header %q, want %q (base58btc)", ErrInvalidKey, s[0], multibaseBase58BTC)
	}
	raw, err := base58.Decode(s[1:])
	if err != nil {
		return nil, fmt.Errorf("%w: %s is not base58btc: %w", ErrInvalidKey, quote(s), err)
	}
	return raw, nil
}

// cutCodec checks that raw is prefix followed by exactly size bytes and
// returns a copy of those bytes.
func cutCodec(raw []byte, prefix string, size int) ([]byte, error) {
	if !bytes.HasPrefix(raw, []byte(prefix)) {
		// Compare the exact prefix bytes above rather than the decoded varint,
		// since unsigned-varint requires the minimal encoding and Uvarint
		// would also accept padded ones. Uvarint only names the codec here.
		code, n := binary.Uvarint(raw)
		if n <= 0 {
			return nil, fmt.Errorf("%w: no multicodec prefix", ErrInvalidKey)
		}
		want, _ := binary.Uvarint([]byte(prefix))
		if code == want {
			return nil, fmt.Errorf("%w: multicodec 0x%x is not minimally encoded", ErrInvalidKey, code)
		}
		name, known := multicodecNames[code]
		if !known {
			// Not a key codec at all: most likely a damaged or truncated
			// value (base58 changes every byte when a character goes).
			return nil, fmt.Errorf("%w: multicodec 0x%x is not a key type, want 0x%x (%s)", ErrInvalidKey, code, want, multicodecNames[want])
		}
		return nil, fmt.Errorf("%w: multicodec 0x%x (%s), want 0x%x (%s)", ErrUnsupportedKey, code, name, want, multicodecNames[want])
	}
	key := raw[len(prefix):]
	if len(key) != size {
		return nil, fmt.Errorf("%w: %d key bytes after the multicodec prefix, want %d", ErrInvalidKey, len(key), size)
	}
	return bytes.Clone(key), nil
}
