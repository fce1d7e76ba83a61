package telemetry

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The standard OpenTelemetry variables a command reads (in its configuration) and passes to
// ParseExport.
const (
	// OTLPEndpointEnv turns export on: the collector's base URL.
	OTLPEndpointEnv = "OTEL_EXPORTER_OTLP_ENDPOINT"
	// OTLPHeadersEnv holds headers sent with every export: comma-separated key=value, values
	// URL-encoded.
	OTLPHeadersEnv = "OTEL_EXPORTER_OTLP_HEADERS"
	// OTLPTimeoutEnv is the timeout of one export in milliseconds (default 10000).
	OTLPTimeoutEnv = "OTEL_EXPORTER_OTLP_TIMEOUT"
	// ServiceNameEnv overrides the service.name resource attribute.
	ServiceNameEnv = "OTEL_SERVICE_NAME"
	// ResourceAttributesEnv adds resource attributes: comma-separated key=value, values
	// URL-encoded.
	ResourceAttributesEnv = "OTEL_RESOURCE_ATTRIBUTES"
)

// DefaultExportTimeout bounds one export when OTEL_EXPORTER_OTLP_TIMEOUT is unset.
const DefaultExportTimeout = 10 * time.Second

// Export says where a process's spans and metrics go. The zero value exports nothing.
type Export struct {
	// Endpoint is the collector's base URL, without /v1/traces; empty: no export.
	Endpoint string
	// Headers are sent with every export (credentials of a vendor's collector, for example).
	Headers http.Header
	// Timeout bounds one export; zero means DefaultExportTimeout.
	Timeout time.Duration
	// ServiceName, when set, replaces the service name the command passes to NewProviders.
	ServiceName string
	// ResourceAttributes are added to the resource of every span and metric.
	ResourceAttributes map[string]string
}

// ExportValues are the raw values of the OpenTelemetry variables, as read from the
// environment by a command's configuration.
type ExportValues struct {
	Endpoint, Headers, Timeout, ServiceName, ResourceAttributes string
}

// ParseExport validates the values of OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_HEADERS,
// OTEL_EXPORTER_OTLP_TIMEOUT, OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES. Every problem is
// reported; an error never repeats a header's value (it may be a credential).
func ParseExport(v ExportValues) (Export, error) {
	var errs []error
	e := Export{Endpoint: strings.TrimSuffix(strings.TrimSpace(v.Endpoint), "/"), ServiceName: strings.TrimSpace(v.ServiceName)}
	if e.Endpoint != "" {
		if u, err := url.Parse(e.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("%s=%q: want an http(s) URL", OTLPEndpointEnv, v.Endpoint))
		}
	}
	pairs, err := parsePairs(OTLPHeadersEnv, v.Headers)
	if err != nil {
		errs = append(errs, err)
	}
	for _, p := range pairs {
		if e.Headers == nil {
			e.Headers = http.Header{}
		}
		e.Headers.Add(p[0], p[1])
	}
	attrs, err := parsePairs(ResourceAttributesEnv, v.ResourceAttributes)
	if err != nil {
		errs = append(errs, err)
	}
	for _, p := range attrs {
		if e.ResourceAttributes == nil {
			e.ResourceAttributes = map[string]string{}
		}
		e.ResourceAttributes[p[0]] = p[1]
	}
	if s := strings.TrimSpace(v.Timeout); s != "" {
		ms, err := strconv.Atoi(s)
		if err != nil || ms <= 0 {
			errs = append(errs, fmt.Errorf("%s=%q: want a positive number of milliseconds", OTLPTimeoutEnv, v.Timeout))
		}
		e.Timeout = time.Duration(ms) * time.Millisecond
	}
	if err := errors.Join(errs...); err != nil {
		return Export{}, fmt.Errorf("telemetry: %w", err)
	}
	return e, nil
}

// parsePairs parses comma-separated key=value pairs with URL-encoded values. Empty items are
// skipped. Errors name the item by position, never by content.
func parsePairs(name, s string) ([][2]string, error) {
	var out [][2]string
	i := 0
	for item := range strings.SplitSeq(s, ",") {
		if strings.TrimSpace(item) == "" {
			continue
		}
		i++
		k, v, ok := strings.Cut(item, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("%s: item %d is not key=value", name, i)
		}
		v = strings.TrimSpace(v)
		if dv, err := url.QueryUnescape(v); err == nil {
			v = dv
		}
		out = append(out, [2]string{k, v})
	}
	return out, nil
}
