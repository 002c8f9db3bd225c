package httpapi

import (
	_ "embed"
	"net/http"
	"strconv"
)

// OpenAPI is the API's OpenAPI 3.1 document, served at /v1/openapi.json.
// The tests check that it describes exactly the routes the server has.
//
//go:embed openapi.json
var OpenAPI []byte

func (s *Server) openAPI(w http.ResponseWriter, _ *http.Request) error {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(OpenAPI)))
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(OpenAPI)
	return nil
}
