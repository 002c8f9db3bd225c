// Command gen rebuilds the contracts' ABI, bytecode and Go bindings in the
// contracts folder it runs in. It is run by `go generate ./contracts` and
// needs `npm ci --prefix contracts` first.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/credanchor/credanchor/contracts/internal/gen"
)

func main() {
	if err := gen.Generate(context.Background(), ".", "."); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
