package httpapi

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/credanchor/credanchor/anchor/merkle"
	"github.com/credanchor/credanchor/node"
	"github.com/credanchor/credanchor/node/credential"
)

const (
	// bulkDeadline replaces the server's read and write timeouts for a bulk
	// request, whose body and work can far outlast a single submission's.
	bulkDeadline = 10 * time.Minute
)

const bulkAccept = "application/x-ndjson, application/ndjson, application/jsonl"

var bulkTypes = map[string]bool{
	"application/x-ndjson": true,
	"application/ndjson":   true,
	"application/jsonl":    true,
}

// BulkResult is the outcome of one line of a bulk submission: the
// credential's digest and state, or the problem with the line.
type BulkResult struct {
	// Line is the 1-based line number in the request body.
	Line   int          `json:"line"`
	Digest *merkle.Hash `json:"digest,omitempty"`
	State  node.State   `json:"state,omitempty"`
	// Created is false when the node already had the credential.
	Created *bool    `json:"created,omitempty"`
	Error   *Problem `json:"error,omitempty"`
}

// BulkResponse answers a bulk submission: one result per non-empty line, in
// the order of the lines.
type BulkResponse struct {
	Results  []BulkResult `json:"results"`
	Created  int          `json:"created"`
	Existing int          `json:"existing"`
	Failed   int          `json:"failed"`
}

type bulkLine struct {
	n    int
	data []byte
}

// submitBulk records many credentials from an NDJSON body: each line a
// credential object, or a JSON string holding a VC-JWT. A bad line gets its
// own problem and does not stop the others. The body is read whole before
// any line is submitted, so a body over the limit (413) submits nothing.
func (s *Server) submitBulk(w http.ResponseWriter, r *http.Request) error {
	if _, err := mediaType(r, bulkAccept, func(mt string) bool { return bulkTypes[mt] }); err != nil {
		return err
	}
	// The response controller fails with ErrNotSupported on writers that have
	// no deadlines (httptest.ResponseRecorder); the defaults then stand.
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(bulkDeadline))
	_ = rc.SetWriteDeadline(time.Now().Add(bulkDeadline))
	body, err := readBody(w, r, s.maxBulk)
	if err != nil {
		return err
	}
	lines := splitLines(body)
	results := make([]BulkResult, len(lines))
	var items []node.Item
	var idx []int
	for i, l := range lines {
		data, form, err := s.lineCredential(l.data)
		if err == nil && s.node.RequiresSignedSubmissions() {
			err = s.node.CheckOwn(r.Context(), data, form)
		}
		if err != nil {
			results[i] = s.lineError(r, l.n, err)
			continue
		}
		items = append(items, node.Item{Data: data, Form: form})
		idx = append(idx, i)
	}
	// One durable write for the whole body: the node acknowledges every
	// line with a single fsync.
	for k, res := range s.node.SubmitMany(items) {
		i := idx[k]
		if res.Err != nil {
			results[i] = s.lineError(r, lines[i].n, res.Err)
			continue
		}
		d, created := res.Submission.Digest, res.Submission.Created
		results[i] = BulkResult{Line: lines[i].n, Digest: &d, State: res.Submission.Record.State, Created: &created}
	}
	resp := BulkResponse{Results: results}
	for _, res := range results {
		switch {
		case res.Error != nil:
			resp.Failed++
		case *res.Created:
			resp.Created++
		default:
			resp.Existing++
		}
	}
	s.writeJSON(w, r, http.StatusOK, resp)
	return nil
}

// splitLines returns the non-blank lines of body with their numbers.
func splitLines(body []byte) []bulkLine {
	var out []bulkLine
	for n := 1; len(body) > 0; n++ {
		line, rest, _ := bytes.Cut(body, []byte{'\n'})
		body = rest
		if line = bytes.TrimSpace(line); len(line) > 0 {
			out = append(out, bulkLine{n: n, data: line})
		}
	}
	return out
}

// lineCredential decodes one line: a JSON object is a credential as it is;
// a JSON string holds a VC-JWT.
func (s *Server) lineCredential(line []byte) ([]byte, credential.Form, error) {
	if int64(len(line)) > s.maxBody {
		return nil, 0, problemErr(ptTooLarge, nil, "the line has %d bytes, over the limit of %d for one credential", len(line), s.maxBody)
	}
	switch line[0] {
	case '{':
		return line, credential.FormJSON, nil
	case '"':
		var jwt string
		if err := json.Unmarshal(line, &jwt); err != nil {
			return nil, 0, problemErr(ptMalformedJSON, err, "the line is not a valid JSON string: %v", err)
		}
		return []byte(jwt), credential.FormJWT, nil
	}
	return nil, 0, problemErr(ptMalformedCredential, nil, "a line is a credential (a JSON object) or a VC-JWT (a JSON string)")
}

// lineError is a line's problem, logged as a whole request's would be.
func (s *Server) lineError(r *http.Request, n int, err error) BulkResult {
	pt, detail, _ := problem(err)
	level := slog.LevelDebug
	if pt.status >= 500 {
		level = slog.LevelError
	}
	s.log.Log(r.Context(), level, "bulk line failed", slog.Int("line", n), slog.Int("status", pt.status), slog.Any("error", err))
	return BulkResult{Line: n, Error: &Problem{Type: pt.uri(), Title: pt.title, Status: pt.status, Detail: detail}}
}
