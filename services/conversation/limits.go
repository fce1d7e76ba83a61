package conversation

import "fmt"

// ConversationsLimit is the refusal of a new conversation when the owner keeps limit.
func ConversationsLimit(limit int) *LimitError {
	return &LimitError{Message: fmt.Sprintf("you keep %d conversations, the most allowed: delete some to start another", limit)}
}

// CheckTurn checks that a user message of size bytes, and its answer, fit a conversation
// that holds count messages of total bytes (after the messages the turn replaces are gone).
func CheckTurn(l Limits, count int, total, size int64) error {
	if l.MessagesPerConversation > 0 && count+2 > l.MessagesPerConversation {
		return &LimitError{Message: fmt.Sprintf("this conversation holds %d messages; at most %d are allowed: start a new conversation", count, l.MessagesPerConversation)}
	}
	if l.MaxBytes > 0 && total+size > l.MaxBytes {
		return &LimitError{Message: fmt.Sprintf("this conversation would hold %d bytes; at most %d are allowed: start a new conversation", total+size, l.MaxBytes)}
	}
	return nil
}
