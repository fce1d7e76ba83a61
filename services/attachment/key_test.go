package attachment_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/portico-dev/portico/services/attachment"
)

func TestSegments(t *testing.T) {
	t.Parallel()
	owner, conv, name, err := attachment.Key{Owner: "alice", Conversation: "c-1_2.x", Name: "img.png"}.Segments()
	if err != nil {
		t.Fatal(err)
	}
	// base64url(SHA-256("alice")), unpadded.
	if owner != "K9gGyX8OAK8aH8Myj6djqSaXI8jbj6xPk69x2xhtbpA" || conv != "c-1_2.x" || name != "img.png" {
		t.Errorf("Segments = %q, %q, %q", owner, conv, name)
	}
	o2, _ := attachment.OwnerSegment("alice ")
	if o2 == owner {
		t.Error("owners differing in a space share a segment")
	}
	for _, k := range []attachment.Key{
		{Owner: "", Conversation: "c", Name: "n"},
		{Owner: strings.Repeat("a", attachment.MaxOwnerLength+1), Conversation: "c", Name: "n"},
		{Owner: "a", Conversation: "", Name: "n"},
		{Owner: "a", Conversation: "c", Name: ""},
		{Owner: "a", Conversation: "..", Name: "n"},
		{Owner: "a", Conversation: "c", Name: "../n"},
		{Owner: "a", Conversation: "c/d", Name: "n"},
		{Owner: "a", Conversation: "c", Name: ".hidden"},
		{Owner: "a", Conversation: "c", Name: "n\x00"},
		{Owner: "a", Conversation: strings.Repeat("c", attachment.MaxIDLength+1), Name: "n"},
	} {
		if _, _, _, err := k.Segments(); !errors.Is(err, attachment.ErrInvalid) {
			t.Errorf("Segments(%q) = %v, want ErrInvalid", k, err)
		}
	}
	long := strings.Repeat("c", attachment.MaxIDLength)
	if _, _, _, err := (attachment.Key{Owner: strings.Repeat("o", attachment.MaxOwnerLength), Conversation: long, Name: long}).Segments(); err != nil {
		t.Errorf("the longest key: %v", err)
	}
}

func TestErrorsNeverRepeatTheValue(t *testing.T) {
	t.Parallel()
	secret := "Bearer-eyJsecret"
	for _, k := range []attachment.Key{
		{Owner: "a", Conversation: secret + "/", Name: "n"},
		{Owner: "a", Conversation: "c", Name: secret + "/"},
	} {
		_, _, _, err := k.Segments()
		if err == nil || strings.Contains(err.Error(), secret) {
			t.Errorf("Segments(%q) = %v", k, err)
		}
	}
	if err := attachment.CheckContentType(secret + "\n"); err == nil || strings.Contains(err.Error(), secret) {
		t.Errorf("CheckContentType = %v", err)
	}
}
