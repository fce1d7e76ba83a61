package lambdahttp

import (
	"context"
	"io"
	"log/slog"

	"github.com/portico-dev/portico/services/platform/logs"
)

// Startup is the start-up of a command that runs only on Lambda (the authorizer, the
// Cognito trigger): the logger it logs with from the start, and how it fails when its
// configuration is wrong. Such a command reads its configuration, makes a Startup with the
// log format the configuration chose, and on an error calls Fail and exits non-zero.
type Startup struct {
	// Logger logs at Info and above, in the format given to NewStartup.
	Logger *slog.Logger
	name   string
	lambda Config
}

// NewStartup returns the start-up of the command name, logging to w in format; an empty
// format (the configuration could not be read, so it named none) means JSON, the format on
// Lambda. getenv gives RuntimeAPIEnv, the Runtime API that Fail reports to.
func NewStartup(name string, w io.Writer, format logs.Format, getenv func(string) string) *Startup {
	if format == "" {
		format = logs.JSON
	}
	return &Startup{Logger: logs.New(w, format, slog.LevelInfo), name: name, lambda: Config{RuntimeAPI: getenv(RuntimeAPIEnv)}}
}

// Fail logs err as the command's configuration error ("<name>: configuration") and, on
// Lambda, reports it to the Runtime API as the function's init error, so that Lambda shows
// it; a report that fails is logged too. The caller exits non-zero next.
func (s *Startup) Fail(ctx context.Context, err error) {
	s.Logger.Error(s.name+": configuration", "err", err)
	if rerr := ReportInitError(ctx, s.lambda, err); rerr != nil {
		s.Logger.Error("reporting the init error to Lambda", "err", rerr)
	}
}
