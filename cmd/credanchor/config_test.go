package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestConfigFile(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, config, env, want string
	}{
		// devnet refuses a non-loopback address: the message shows which
		// value won.
		{"file sets a flag", `{"http": "file.invalid:80"}`, "", "file.invalid is not a loopback address"},
		{"environment wins over the file", `{"http": "file.invalid:80"}`, "CREDANCHOR_HTTP=env.invalid:80", "env.invalid is not a loopback address"},
		{"unknown setting", `{"htp": "x"}`, "", `unknown setting "htp"`},
		{"not JSON", `http: x`, "", "--config"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".json")
			if err := os.WriteFile(path, []byte(tc.config), 0o600); err != nil {
				t.Fatal(err)
			}
			cmd := []string{"devnet", "--config", path, "--data", filepath.Join(dir, "data")}
			var stderr string
			var code int
			if tc.env != "" {
				t.Setenv(strings.SplitN(tc.env, "=", 2)[0], strings.SplitN(tc.env, "=", 2)[1])
			}
			_, stderr, code = run(t, cmd...)
			if code == 0 || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q, want %q", code, stderr, tc.want)
			}
		})
	}
}
