package chat

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// The wire protocol of /ws/chat. Every frame, both ways, is a JSON envelope
// {"type": "...", "data": {...}} (STYLE.md, "Real-time").
//
// Visitor → server:
//
//	auth       {token, after}           only when the token is not in the URL; must be the first frame
//	message    {client_id, body}        answered by ack (or error with the same client_id)
//	typing     {}                       the visitor is typing (throttled to one per second)
//	delivered  {message_id}             agent messages up to message_id reached the widget
//	read       {message_id}             agent messages up to message_id were shown
//	end        {}                       the visitor ends the chat
//	feedback   {csat, comment}          rating after the end, csat 1–5
//	transcript {}                       email the transcript to the address given before the chat
//
// Server → visitor:
//
//	welcome    {contact_id, visitor_id, name, state, agent}  after authentication; state is waiting, active or ended
//	message    {id, direction, body, created_at, agent}      history (after "after", in order) then live messages
//	ack        {client_id, id, created_at}                   the visitor's message is stored with id
//	agent_joined {name}
//	typing     {}                                            the agent is typing
//	receipt    {message_id, status}                          the agent read the visitor's messages up to message_id
//	queue      {position, eta_seconds}                       while waiting for an agent
//	ended      {by}                                          "agent" or "customer"
//	feedback_ok {}, transcript_sent {}
//	error      {code, message, client_id?}                   the connection is kept unless it is an auth error
//
// Error codes: invalid_frame, unknown_type, too_large, empty, rate_limited,
// ended, not_ended, already_rated, invalid, unavailable, no_email, unauthorized.

// Frame is an incoming envelope with its data left raw.
type Frame struct {
	Type string          `json:"type"`
	Data json.RawMessage `json:"data,omitempty"`
}

// Out is an outgoing envelope.
type Out struct {
	Type string `json:"type"`
	Data any    `json:"data,omitempty"`
}

// Incoming frame payloads.
type (
	authData struct {
		Token string `json:"token"`
		After int64  `json:"after"`
	}
	messageData struct {
		ClientID string `json:"client_id"`
		Body     string `json:"body"`
	}
	receiptData struct {
		MessageID int64 `json:"message_id"`
	}
	feedbackData struct {
		CSAT    int    `json:"csat"`
		Comment string `json:"comment"`
	}
)

// Limits on what a visitor may send.
const (
	// DefaultMaxMessageBytes bounds one chat message body.
	DefaultMaxMessageBytes = 4 << 10
	// readLimit bounds a whole frame; a bigger one closes the connection
	// (close code 1009). Between MaxMessageBytes and readLimit the visitor
	// gets a too_large error frame and the connection is kept.
	readLimit        = 32 << 10
	maxClientIDBytes = 64
	maxCommentBytes  = 2 << 10
)

// DecodeFrame parses one frame from the network. It never panics; an error
// means the frame is not a JSON envelope with a type.
func DecodeFrame(b []byte) (Frame, error) {
	var f Frame
	if !utf8.Valid(b) {
		return Frame{}, fmt.Errorf("chat: frame is not UTF-8")
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return Frame{}, fmt.Errorf("chat: frame: %w", err)
	}
	if f.Type == "" || len(f.Type) > 32 {
		return Frame{}, fmt.Errorf("chat: frame has no type")
	}
	return f, nil
}

// decodeData parses a frame's data into v; empty data leaves v zero.
func decodeData(raw json.RawMessage, v any) error {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	return json.Unmarshal(raw, v)
}

// checkMessage validates a visitor's message and returns the body to store.
func checkMessage(d messageData, max int) (string, string) {
	body := strings.TrimSpace(d.Body)
	switch {
	case len(d.Body) > max:
		return "", "too_large"
	case body == "":
		return "", "empty"
	case len(d.ClientID) > maxClientIDBytes:
		return "", "invalid"
	}
	return body, ""
}

type errData struct {
	Code     string `json:"code"`
	Message  string `json:"message"`
	ClientID string `json:"client_id,omitempty"`
}

var errText = map[string]string{
	"invalid_frame": "frame is not a JSON envelope {\"type\":...,\"data\":...}",
	"unknown_type":  "unknown frame type",
	"too_large":     "message is too long",
	"empty":         "message is empty",
	"rate_limited":  "too many messages; wait a moment",
	"ended":         "the chat has ended",
	"not_ended":     "the chat has not ended yet",
	"already_rated": "this chat is already rated",
	"invalid":       "invalid request",
	"unavailable":   "temporarily unavailable; try again",
	"no_email":      "no email address was given before the chat",
	"unauthorized":  "invalid or expired token",
}

func errFrame(code, clientID string) Out {
	return Out{Type: "error", Data: errData{Code: code, Message: errText[code], ClientID: clientID}}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
