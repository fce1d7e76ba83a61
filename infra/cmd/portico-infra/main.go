// Command portico-infra is Portico's CDK app: `cdk synth -c env=uat` (or prod) from infra/.
//
// Context keys:
//
//	env                uat or prod (required unless configFile is given)
//	configFile         a configuration file to use instead of the environment's embedded one,
//	                   e.g. config/examples/uat-entra.yaml (relative to infra/)
//	assetDir           overrides the configuration's assetDir (build/lambda)
//	placeholderAssets  "true" synthesises with placeholder Lambda artifacts when make build has
//	                   not run (for checks only: never deploy such an assembly)
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/portico-dev/portico/infra/config"
	"github.com/portico-dev/portico/infra/stacks"
)

func main() {
	defer jsii.Close()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "portico-infra:", err)
		os.Exit(1)
	}
}

func run() error {
	app := awscdk.NewApp(nil)
	ctx := func(key string) string {
		if v, ok := app.Node().TryGetContext(jsii.String(key)).(string); ok {
			return v
		}
		return ""
	}
	env, file := ctx("env"), ctx("configFile")
	var cfg *config.Config
	var err error
	switch {
	case file != "":
		if cfg, err = config.LoadFile(file); err == nil && env != "" && env != cfg.Env {
			err = fmt.Errorf("%s is environment %q, not %q", file, cfg.Env, env)
		}
	case env != "":
		cfg, err = config.Load(env)
	default:
		err = fmt.Errorf("choose an environment: cdk synth -c env=uat (one of %v), or -c configFile=<file>", config.Environments)
	}
	if err != nil {
		return err
	}
	opts := stacks.Options{AssetDir: ctx("assetDir")}
	if ctx("placeholderAssets") == "true" {
		dir, err := os.MkdirTemp("", "portico-placeholder-assets-")
		if err != nil {
			return fmt.Errorf("placeholder assets: %w", err)
		}
		defer os.RemoveAll(dir)
		if err := stacks.WritePlaceholderAssets(dir); err != nil {
			return err
		}
		opts.AssetDir = dir
		fmt.Fprintln(os.Stderr, "portico-infra: synthesising with PLACEHOLDER Lambda artifacts (checks only; never deploy this assembly)")
	}
	if _, err := stacks.New(app, cfg, opts); err != nil {
		return err
	}
	app.Synth(nil)
	return nil
}
