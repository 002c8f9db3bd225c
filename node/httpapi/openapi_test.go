package httpapi

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
)

type openAPIDoc struct {
	OpenAPI    string                                `json:"openapi"`
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Responses map[string]struct {
			Content map[string]struct {
				Schema struct {
					Ref string `json:"$ref"`
				} `json:"schema"`
			} `json:"content"`
		} `json:"responses"`
		Schemas struct {
			Problem struct {
				Types []string `json:"x-problem-types"`
			} `json:"Problem"`
		} `json:"schemas"`
	} `json:"components"`
}

type openAPIOp struct {
	Security  []map[string][]string `json:"security"`
	Responses map[string]struct {
		Ref     string `json:"$ref"`
		Content map[string]struct {
			Schema struct {
				Ref string `json:"$ref"`
			} `json:"schema"`
		} `json:"content"`
	} `json:"responses"`
}

var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// TestOpenAPIRoutes checks that openapi.json describes exactly the routes the
// mux serves, with the same authentication, and that every error response is
// the one problem schema.
func TestOpenAPIRoutes(t *testing.T) {
	var doc openAPIDoc
	if err := json.Unmarshal(OpenAPI, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1.") {
		t.Errorf("openapi %q, want 3.1.x", doc.OpenAPI)
	}
	served := map[string]route{}
	for _, rt := range routes {
		served[strings.ToLower(rt.method)+" "+rt.path] = rt
	}
	described := map[string]bool{}
	for path, item := range doc.Paths {
		for key, raw := range item {
			if !slices.Contains(httpMethods, key) {
				continue
			}
			name := key + " " + path
			described[name] = true
			rt, ok := served[name]
			if !ok {
				t.Errorf("openapi.json describes %s, which the server does not serve", name)
				continue
			}
			var op openAPIOp
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if auth := slices.ContainsFunc(op.Security, func(m map[string][]string) bool { _, ok := m["issuerToken"]; return ok }); auth != rt.auth {
				t.Errorf("%s: bearer auth documented %v, served %v", name, auth, rt.auth)
			}
			if _, ok := op.Responses["default"]; !ok {
				t.Errorf("%s: no default (problem) response", name)
			}
			for code, resp := range op.Responses {
				n, err := strconv.Atoi(code)
				if code != "default" && (err != nil || n < 400) {
					continue
				}
				content := resp.Content
				if ref, ok := strings.CutPrefix(resp.Ref, "#/components/responses/"); ok {
					shared, ok := doc.Components.Responses[ref]
					if !ok {
						t.Errorf("%s %s: unknown response %q", name, code, resp.Ref)
						continue
					}
					content = shared.Content
				}
				pj, ok := content[ProblemContentType]
				if !ok || len(content) != 1 {
					t.Errorf("%s %s: error response is not %s only", name, code, ProblemContentType)
					continue
				}
				if pj.Schema.Ref != "#/components/schemas/Problem" && pj.Schema.Ref != "#/components/schemas/HealthProblem" {
					t.Errorf("%s %s: error schema %q, want the Problem schema", name, code, pj.Schema.Ref)
				}
			}
		}
	}
	for name := range served {
		if !described[name] {
			t.Errorf("the server serves %s, which openapi.json does not describe", name)
		}
	}

	var want []string
	for _, pt := range problemTypes {
		if pt.slug != "" {
			want = append(want, pt.uri())
		}
	}
	got := slices.Clone(doc.Components.Schemas.Problem.Types)
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("x-problem-types:\n got %q\nwant %q", got, want)
	}
}

// TestOpenAPIRefs checks that every $ref of the document resolves.
func TestOpenAPIRefs(t *testing.T) {
	var doc any
	if err := json.Unmarshal(OpenAPI, &doc); err != nil {
		t.Fatal(err)
	}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && k == "$ref" {
					if resolve(doc, s) == nil {
						t.Errorf("$ref %q does not resolve", s)
					}
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(doc)
}

// resolve follows a local JSON pointer ("#/a/b").
func resolve(doc any, ref string) any {
	p, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil
	}
	cur := doc
	for _, part := range strings.Split(p, "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		part = strings.NewReplacer("~1", "/", "~0", "~").Replace(part)
		if cur, ok = m[part]; !ok {
			return nil
		}
	}
	return cur
}

// TestOpenAPIServed checks that the route serves the embedded document.
func TestOpenAPIServed(t *testing.T) {
	e := newEnv(t, envOptions{})
	r := e.get("/v1/openapi.json")
	if r.status != http.StatusOK || r.header.Get("Content-Type") != "application/json" || string(r.body) != string(OpenAPI) {
		t.Errorf("GET /v1/openapi.json: %d %q", r.status, r.header.Get("Content-Type"))
	}
}
