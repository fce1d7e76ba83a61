package localaws

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// awsError is an error answered in the shape of the AWS REST-JSON protocols: the type in the
// X-Amzn-ErrorType header and a JSON body with the message.
type awsError struct {
	status int
	code   string
	msg    string
	// extra holds additional body fields, such as SageMaker ModelError's OriginalStatusCode.
	extra map[string]any
}

func (e *awsError) Error() string { return e.code + ": " + e.msg }

func newAWSError(status int, code, msg string) *awsError {
	return &awsError{status: status, code: code, msg: msg}
}

// write answers the error. Bedrock spells the message field "message", SageMaker "Message";
// both are written so either SDK finds it.
func (e *awsError) write(w http.ResponseWriter, requestID string) {
	body := map[string]any{"message": e.msg, "Message": e.msg}
	for k, v := range e.extra {
		body[k] = v
	}
	b, _ := json.Marshal(body)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Amzn-ErrorType", e.code)
	h.Set("X-Amzn-Requestid", requestID)
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(e.status)
	_, _ = w.Write(b)
}

// payload is the JSON payload of an event-stream exception message.
func (e *awsError) payload() []byte {
	body := map[string]any{"message": e.msg, "Message": e.msg}
	for k, v := range e.extra {
		body[k] = v
	}
	b, _ := json.Marshal(body)
	return b
}
