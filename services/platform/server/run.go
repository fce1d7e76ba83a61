package server

import (
	"context"
	"fmt"

	"github.com/portico-dev/portico/services/platform/lambdahttp"
)

// Run serves in the mode cfg selects (read by the command's configuration): on
// Lambda it serves invocations through lambdahttp (cfg.Event says Function URL or API
// Gateway), otherwise it listens on addr as a standalone h2c server. Either way it returns
// when ctx ends. On Lambda, telemetry is flushed after every invocation.
func (s *Server) Run(ctx context.Context, addr string, cfg lambdahttp.Config) error {
	if !cfg.OnLambda() {
		return s.ListenAndServe(ctx, addr)
	}
	s.cfg.logger.InfoContext(ctx, "serving Lambda invocations", "event", string(cfg.Event), "services", s.Names())
	flush := func(ctx context.Context) {
		if err := s.cfg.providers.ForceFlush(ctx); err != nil {
			s.cfg.logger.WarnContext(ctx, "telemetry flush failed", "err", err)
		}
	}
	if err := lambdahttp.Serve(ctx, cfg, s.handler, lambdahttp.WithLogger(s.cfg.logger), lambdahttp.WithAfterInvoke(flush)); err != nil {
		return fmt.Errorf("server: %w", err)
	}
	return nil
}
