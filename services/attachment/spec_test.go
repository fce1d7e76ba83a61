package attachment_test

import (
	"testing"

	"github.com/portico-dev/portico/services/attachment"
)

func TestParseSpec(t *testing.T) {
	t.Parallel()
	good := map[string]attachment.Spec{
		"dir:.data/attachments":  {Kind: attachment.KindDir, Target: ".data/attachments"},
		"dir:/var/lib/p:x":       {Kind: attachment.KindDir, Target: "/var/lib/p:x"},
		"s3:portico-attachments": {Kind: attachment.KindS3, Target: "portico-attachments"},
		"s3:a.b-c":               {Kind: attachment.KindS3, Target: "a.b-c"},
	}
	for in, want := range good {
		if got, err := attachment.ParseSpec(in); err != nil || got != want {
			t.Errorf("ParseSpec(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{
		"", "dir", "dir:", "s3:", ":x", "file:/tmp", "S3:bucket", "DIR:x", "sqlite:x",
		"s3:ab", "s3:Bucket", "s3:-bucket", "s3:bucket-", "s3:a_b", "s3:a/b", "s3:bucket/prefix",
		"s3:" + string(make([]byte, 64)),
	} {
		if got, err := attachment.ParseSpec(in); err == nil {
			t.Errorf("ParseSpec(%q) = %+v, want an error", in, got)
		}
	}
}
