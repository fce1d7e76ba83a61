// Command portico calls Portico's services from a terminal as a machine client: it obtains a
// client-credentials token and speaks gRPC, Connect or gRPC-Web (package client).
//
// Usage:
//
//	portico [flags] me                       who the client is and what it may use
//	portico [flags] models                   the models it may invoke
//	portico [flags] chat -model ID "prompt"  stream a model's answer to stdout
//	portico [flags] usage                    its quotas and consumption
//	portico [flags] smoke [-skip-endpoints]  check a deployment end to end (exit 1 on any
//	                                         failure); see package smoke
//
// Flags (and the environment variables that set their defaults):
//
//	-url            PORTICO_SERVICES_URL   services URL (http://localhost:8081)
//	-issuer         PORTICO_ISSUER         token issuer (http://localhost:9000)
//	-token-url      PORTICO_TOKEN_URL      token endpoint (default: from the issuer's discovery)
//	-client-id      PORTICO_CLIENT_ID      client id (portico-machine)
//	-client-secret  PORTICO_CLIENT_SECRET  client secret (the dev machine client's)
//	-protocol       PORTICO_PROTOCOL       grpc, connect or grpcweb (default: grpc for
//	                                       http://localhost, connect for other URLs, such
//	                                       as a deployment behind API Gateway)
//	-timeout                               per-command timeout (2m)
//
// chat's own flags: -model ID (required), -system "prompt" (a system prompt), -max-tokens N
// (the most tokens to generate; 0, the default, lets the model decide).
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"strings"
	"text/tabwriter"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	identityv1 "github.com/portico-dev/portico/gen/go/portico/identity/v1"
	inferencev1 "github.com/portico-dev/portico/gen/go/portico/inference/v1"
	"github.com/portico-dev/portico/services/client"
	"github.com/portico-dev/portico/services/client/smoke"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}

const usageText = `usage: portico [flags] me | models | chat -model ID "prompt" | usage | smoke`

// run executes one command and returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := flag.NewFlagSet("portico", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		_, _ = fmt.Fprintln(stderr, usageText)
		fs.PrintDefaults()
	}
	cfg := client.Config{}
	fs.StringVar(&cfg.BaseURL, "url", orEnv(getenv, "PORTICO_SERVICES_URL", client.DefaultBaseURL), "services URL")
	fs.StringVar(&cfg.Issuer, "issuer", orEnv(getenv, "PORTICO_ISSUER", client.DefaultIssuer), "token issuer")
	fs.StringVar(&cfg.TokenURL, "token-url", getenv("PORTICO_TOKEN_URL"), "token endpoint (default: from discovery)")
	fs.StringVar(&cfg.ClientID, "client-id", orEnv(getenv, "PORTICO_CLIENT_ID", client.DefaultClientID), "OAuth client id")
	fs.StringVar(&cfg.ClientSecret, "client-secret", orEnv(getenv, "PORTICO_CLIENT_SECRET", client.DefaultClientSecret), "OAuth client secret")
	protocol := fs.String("protocol", getenv("PORTICO_PROTOCOL"), "grpc, connect or grpcweb (default: grpc for http://localhost, connect otherwise)")
	timeout := fs.Duration("timeout", 2*time.Minute, "per-command timeout")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	p, err := client.ParseProtocol(*protocol)
	if err != nil {
		_, _ = fmt.Fprintln(stderr, "portico:", err)
		return 2
	}
	cfg.Protocol = p
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	if fs.Arg(0) == "smoke" {
		// The smoke test makes the client itself, to report discovery and the token.
		return smokeTest(ctx, cfg, fs.Args()[1:], stdout, stderr)
	}
	c, err := client.New(ctx, cfg)
	if err != nil {
		_, _ = fmt.Fprintln(stderr, "portico:", err)
		return 1
	}
	cmd, rest := fs.Arg(0), fs.Args()[1:]
	switch cmd {
	case "me":
		err = me(ctx, c, stdout)
	case "models":
		err = models(ctx, c, stdout)
	case "chat":
		err = chat(ctx, c, rest, stdout, stderr)
	case "usage":
		err = usage(ctx, c, stdout)
	default:
		_, _ = fmt.Fprintf(stderr, "portico: unknown command %q\n%s\n", cmd, usageText)
		return 2
	}
	if err != nil {
		_, _ = fmt.Fprintln(stderr, "portico:", err)
		if errors.Is(err, flag.ErrHelp) || errors.Is(err, errUsage) {
			return 2
		}
		return 1
	}
	return 0
}

var errUsage = errors.New(usageText)

func me(ctx context.Context, c *client.Client, w io.Writer) error {
	resp, err := c.Identity.GetMe(ctx, &identityv1.GetMeRequest{})
	if err != nil {
		return err
	}
	return printJSON(w, resp)
}

func models(ctx context.Context, c *client.Client, w io.Writer) error {
	resp, err := c.Inference.ListModels(ctx, &inferencev1.ListModelsRequest{})
	if err != nil {
		return err
	}
	// The tabwriter buffers every line until Flush, which reports any write error.
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	_, _ = fmt.Fprintln(tw, "ID\tPROVIDER\tNAME")
	for _, m := range resp.GetModels() {
		provider := strings.ToLower(strings.TrimPrefix(m.GetProvider().String(), "PROVIDER_"))
		_, _ = fmt.Fprintf(tw, "%s\t%s\t%s\n", m.GetId(), provider, m.GetDisplayName())
	}
	return tw.Flush()
}

func chat(ctx context.Context, c *client.Client, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("chat", flag.ContinueOnError)
	fs.SetOutput(stderr)
	model := fs.String("model", "", "model id (see `portico models`)")
	system := fs.String("system", "", "system prompt")
	maxTokens := fs.Int("max-tokens", 0, "most tokens to generate (model default when 0)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	n := *maxTokens
	if n < 0 || n > math.MaxInt32 {
		return fmt.Errorf("%w: -max-tokens must be from 0 to %d", errUsage, math.MaxInt32)
	}
	prompt := strings.Join(fs.Args(), " ")
	if *model == "" || prompt == "" {
		return fmt.Errorf("%w: chat needs -model and a prompt", errUsage)
	}
	req := &inferencev1.ConverseStreamRequest{
		ModelId:      *model,
		SystemPrompt: *system,
		Messages: []*inferencev1.Message{{
			Role:    inferencev1.Role_ROLE_USER,
			Content: []*inferencev1.ContentBlock{{Block: &inferencev1.ContentBlock_Text{Text: prompt}}},
		}},
	}
	if n > 0 {
		req.InferenceConfig = &inferencev1.InferenceConfig{MaxTokens: proto.Int32(int32(n))}
	}
	stream, err := c.Inference.ConverseStream(ctx, req)
	if err != nil {
		return err
	}
	defer func() { _ = stream.Close() }()
	for stream.Receive() {
		switch ev := stream.Msg().GetEvent().(type) {
		case *inferencev1.ConverseStreamResponse_Delta:
			if _, err := io.WriteString(stdout, ev.Delta.GetText()); err != nil {
				return err
			}
		case *inferencev1.ConverseStreamResponse_Stop:
			if _, err := fmt.Fprintln(stdout); err != nil {
				return err
			}
			if r := ev.Stop.GetStopReason(); r != inferencev1.StopReason_STOP_REASON_END_TURN {
				_, _ = fmt.Fprintln(stderr, "stop:", r)
			}
		case *inferencev1.ConverseStreamResponse_Metadata:
			m := ev.Metadata.GetMetrics()
			_, _ = fmt.Fprintf(stderr, "tokens: %d in, %d out\n", m.GetInputTokens(), m.GetOutputTokens())
		}
	}
	return stream.Err()
}

// smokeTest runs the smoke test, prints its table and returns the exit status: 0 when every
// check passed, 1 when one failed, 2 for bad flags.
func smokeTest(ctx context.Context, cfg client.Config, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("smoke", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o smoke.Options
	fs.BoolVar(&o.SkipEndpoints, "skip-endpoints", false, "do not invoke SageMaker endpoints")
	fs.StringVar(&o.Prompt, "prompt", smoke.DefaultPrompt, "what each model is asked")
	maxTokens := fs.Int("max-tokens", smoke.DefaultMaxTokens, "most tokens of each answer")
	fs.DurationVar(&o.CheckTimeout, "check-timeout", smoke.DefaultCheckTimeout, "timeout of each check")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *maxTokens < 1 || *maxTokens > math.MaxInt32 || fs.NArg() > 0 {
		_, _ = fmt.Fprintf(stderr, "portico: smoke takes no arguments and -max-tokens from 1 to %d\n", math.MaxInt32)
		return 2
	}
	o.MaxTokens = int32(*maxTokens)
	r := smoke.Run(ctx, cfg, o)
	if err := r.WriteTable(stdout); err != nil {
		_, _ = fmt.Fprintln(stderr, "portico:", err)
		return 1
	}
	if !r.OK() {
		return 1
	}
	return 0
}

func usage(ctx context.Context, c *client.Client, w io.Writer) error {
	resp, err := c.Inference.GetUsage(ctx, &inferencev1.GetUsageRequest{})
	if err != nil {
		return err
	}
	return printJSON(w, resp)
}

// printJSON writes m as indented JSON. protojson's own multiline output varies its spacing
// on purpose, so the compact form is re-indented for a stable, scriptable output.
func printJSON(w io.Writer, m proto.Message) error {
	b, err := protojson.Marshal(m)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		return err
	}
	out.WriteByte('\n')
	_, err = out.WriteTo(w)
	return err
}

func orEnv(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}
