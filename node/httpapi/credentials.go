package httpapi

import (
	"bytes"
	"errors"
	"mime"
	"net/http"
	"strings"

	"github.com/credanchor/credanchor/anchor/merkle"
	"github.com/credanchor/credanchor/node/credential"
)

// credentialTypes maps the media types a submission may have to the form of
// credential they carry.
var credentialTypes = map[string]credential.Form{
	"application/json":       credential.FormJSON,
	"application/ld+json":    credential.FormJSON,
	"application/vc+ld+json": credential.FormJSON,
	"application/vc":         credential.FormJSON,
	"application/vc+jwt":     credential.FormJWT,
	"application/jwt":        credential.FormJWT,
}

const credentialAccept = "application/json, application/ld+json, application/vc+ld+json, application/vc, application/vc+jwt, application/jwt"

// mediaType returns the request's media type, lower case and without
// parameters, or a 415 problem naming the accepted types.
func mediaType(r *http.Request, accept string, ok func(string) bool) (string, error) {
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if ct == "" || err != nil || !ok(mt) {
		e := problemErr(ptMediaType, err, "Content-Type %q is not one of: %s", ct, accept)
		// RFC 9110 §15.5.16: Accept in a 415 lists the acceptable types.
		e.header = map[string]string{"Accept": accept}
		return "", e
	}
	return mt, nil
}

// readBody reads the whole body, refusing more than limit bytes with 413.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, &http.MaxBytesError{Limit: limit}
	}
	var buf bytes.Buffer
	if r.ContentLength > 0 {
		buf.Grow(int(r.ContentLength))
	}
	// MaxBytesReader also tells the server to close the connection rather
	// than drain an oversized body.
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, err
		}
		return nil, problemErr(ptUnreadableBody, err, "reading the request body failed")
	}
	return buf.Bytes(), nil
}

// submit records one credential: 202 with its record when it is new, 200
// when the node already had it. Either way it is durably stored when the
// answer is sent.
func (s *Server) submit(w http.ResponseWriter, r *http.Request) error {
	mt, err := mediaType(r, credentialAccept, func(mt string) bool { _, ok := credentialTypes[mt]; return ok })
	if err != nil {
		return err
	}
	body, err := readBody(w, r, s.maxBody)
	if err != nil {
		return err
	}
	if s.node.RequiresSignedSubmissions() {
		if err := s.node.CheckOwn(r.Context(), body, credentialTypes[mt]); err != nil {
			return err
		}
	}
	sub, err := s.node.Submit(body, credentialTypes[mt])
	if err != nil {
		return err
	}
	w.Header().Set("Location", credentialPath(sub.Digest))
	status := http.StatusOK
	if sub.Created {
		status = http.StatusAccepted
	}
	s.writeJSON(w, r, status, sub.Record)
	return nil
}

func credentialPath(d merkle.Hash) string { return "/v1/credentials/" + d.String() }

// pathHash parses a hash path parameter; a bad one is a 400.
func pathHash(r *http.Request, name string) (merkle.Hash, error) {
	v := r.PathValue(name)
	h, err := merkle.ParseHash(v)
	if err != nil {
		return h, problemErr(ptInvalidHash, err, "%s %q is not 32 bytes of hex (0x and 64 hex digits)", name, truncate(v, 80))
	}
	return h, nil
}

// truncate bounds what a problem echoes of the client's input.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}

// credential answers the node's record of a digest.
func (s *Server) credential(w http.ResponseWriter, r *http.Request) error {
	d, err := pathHash(r, "digest")
	if err != nil {
		return err
	}
	rec, err := s.node.Credential(d)
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, rec)
	return nil
}

// receipt answers the receipt of an anchored credential; 404 while it is
// pending.
func (s *Server) receipt(w http.ResponseWriter, r *http.Request) error {
	d, err := pathHash(r, "digest")
	if err != nil {
		return err
	}
	rc, err := s.node.Receipt(d)
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, rc)
	return nil
}
