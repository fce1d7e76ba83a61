package localaws

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/smithy-go/encoding/httpbinding"
)

const (
	sigV4Algorithm = "AWS4-HMAC-SHA256"
	amzDateFormat  = "20060102T150405Z"
	maxClockSkew   = 15 * time.Minute
)

// sigV4Credential is the parsed Authorization header of a SigV4-signed request.
type sigV4Credential struct {
	accessKeyID   string
	date          string // YYYYMMDD
	region        string
	service       string
	signedHeaders []string
	signature     string
}

func parseAuthorization(h string) (sigV4Credential, bool) {
	var c sigV4Credential
	rest, ok := strings.CutPrefix(h, sigV4Algorithm+" ")
	if !ok {
		return c, false
	}
	for part := range strings.SplitSeq(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return c, false
		}
		switch k {
		case "Credential":
			f := strings.Split(v, "/")
			if len(f) != 5 || f[4] != "aws4_request" {
				return c, false
			}
			c.accessKeyID, c.date, c.region, c.service = f[0], f[1], f[2], f[3]
		case "SignedHeaders":
			c.signedHeaders = strings.Split(v, ";")
		case "Signature":
			c.signature = v
		}
	}
	return c, c.accessKeyID != "" && c.signature != "" && len(c.signedHeaders) > 0
}

// verifySigV4 checks the request's SigV4 signature for the given service against the
// configured credentials. body is the whole request body. It returns nil when the signature
// is valid, else the AWS error to answer.
func (s *Server) verifySigV4(r *http.Request, service string, body []byte) *awsError {
	c, ok := parseAuthorization(r.Header.Get("Authorization"))
	if !ok {
		return newAWSError(http.StatusForbidden, "MissingAuthenticationTokenException", "Missing Authentication Token")
	}
	if c.accessKeyID != s.cfg.AccessKeyID {
		return newAWSError(http.StatusForbidden, "UnrecognizedClientException", "The security token included in the request is invalid.")
	}
	if c.service != service {
		return newAWSError(http.StatusForbidden, "InvalidSignatureException", "Credential should be scoped to correct service: '"+service+"'.")
	}
	amzDate := r.Header.Get("X-Amz-Date")
	t, err := time.Parse(amzDateFormat, amzDate)
	if err != nil || !strings.HasPrefix(amzDate, c.date) {
		return newAWSError(http.StatusForbidden, "InvalidSignatureException", "The request signature is missing or has an invalid date.")
	}
	if d := s.now().Sub(t); d > maxClockSkew || d < -maxClockSkew {
		return newAWSError(http.StatusForbidden, "InvalidSignatureException", "Signature expired: "+amzDate+" is out of the allowed clock skew.")
	}
	sum := sha256.Sum256(body)
	payloadHash := hex.EncodeToString(sum[:])
	if h := r.Header.Get("X-Amz-Content-Sha256"); h != "" && h != payloadHash {
		return newAWSError(http.StatusForbidden, "InvalidSignatureException", "The provided 'x-amz-content-sha256' header does not match what was computed.")
	}
	canonical := canonicalRequest(r, c.signedHeaders, payloadHash)
	scope := c.date + "/" + c.region + "/" + c.service + "/aws4_request"
	ch := sha256.Sum256([]byte(canonical))
	stringToSign := sigV4Algorithm + "\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(ch[:])
	key := hmacSHA256([]byte("AWS4"+s.cfg.SecretAccessKey), c.date)
	key = hmacSHA256(key, c.region)
	key = hmacSHA256(key, c.service)
	key = hmacSHA256(key, "aws4_request")
	want := hex.EncodeToString(hmacSHA256(key, stringToSign))
	if !hmac.Equal([]byte(want), []byte(c.signature)) {
		return newAWSError(http.StatusForbidden, "InvalidSignatureException", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.")
	}
	return nil
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// canonicalRequest builds the SigV4 canonical request of r over the given signed headers.
// The path is escaped twice, as SigV4 does for every service but S3.
func canonicalRequest(r *http.Request, signedHeaders []string, payloadHash string) string {
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	b.WriteString(httpbinding.EscapePath(path, false))
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(r.URL.Query()))
	b.WriteByte('\n')
	for _, name := range signedHeaders {
		b.WriteString(name)
		b.WriteByte(':')
		switch name {
		case "host":
			b.WriteString(r.Host)
		case "content-length":
			b.WriteString(strconv.FormatInt(r.ContentLength, 10))
		default:
			vals := r.Header.Values(name)
			for i, v := range vals {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString(strings.Join(strings.Fields(v), " "))
			}
		}
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(signedHeaders, ";"))
	b.WriteByte('\n')
	b.WriteString(payloadHash)
	return b.String()
}

func canonicalQuery(q url.Values) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		vals := append([]string(nil), q[k]...)
		sort.Strings(vals)
		for _, v := range vals {
			parts = append(parts, escapeQuery(k)+"="+escapeQuery(v))
		}
	}
	return strings.Join(parts, "&")
}

func escapeQuery(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}
