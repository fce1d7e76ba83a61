package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/portico-dev/portico/services/testing/bench"
)

// lambdaBuild is the build of a Lambda function's bootstrap binary.
var lambdaBuild = struct {
	env   []string
	flags []string
}{
	env:   []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64"},
	flags: []string{"-trimpath", "-tags", "lambda.norpc", "-ldflags=-s -w"},
}

// lambdaCommands are the commands deployed as Lambda functions.
var lambdaCommands = []string{
	"./services/cmd/portico-services",
	"./services/cmd/portico-authorizer",
	"./bff/cmd/portico-bff",
}

type binarySize struct {
	pkg   string
	bytes int64
	err   error
}

func measureBinaries(ctx context.Context, root, dir string, opts options) []binarySize {
	if opts.smoke {
		return nil
	}
	out := filepath.Join(dir, "lambda")
	if err := os.MkdirAll(out, 0o700); err != nil {
		return []binarySize{{pkg: "all", err: err}}
	}
	var sizes []binarySize
	for _, pkg := range lambdaCommands {
		logf("  GOARCH=arm64 go build %s", pkg)
		s := binarySize{pkg: pkg}
		path, err := bench.Build(ctx, root, out, pkg, lambdaBuild.env, lambdaBuild.flags...)
		if err == nil {
			var fi os.FileInfo
			if fi, err = os.Stat(path); err == nil {
				s.bytes = fi.Size()
			}
		}
		if err != nil {
			s.err = fmt.Errorf("build: %w", err)
		}
		sizes = append(sizes, s)
	}
	return sizes
}
