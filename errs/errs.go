// Package errs defines the one error type that operations return and the
// table that maps its kinds to HTTP statuses and GraphQL codes.
package errs

import (
	"errors"
	"fmt"
)

// Kind classifies an error for clients.
type Kind int

// The kinds of error an operation can return.
const (
	Internal Kind = iota
	Invalid
	Unauthenticated
	Forbidden
	NotFound
	Conflict
	TooLarge
	RateLimited
	Unavailable
	Unprocessable
)

var table = map[Kind]struct {
	status int
	code   string
}{
	Internal:        {500, "INTERNAL_SERVER_ERROR"},
	Invalid:         {400, "BAD_USER_INPUT"},
	Unauthenticated: {401, "UNAUTHENTICATED"},
	Forbidden:       {403, "FORBIDDEN"},
	NotFound:        {404, "NOT_FOUND"},
	Conflict:        {409, "CONFLICT"},
	TooLarge:        {413, "PAYLOAD_TOO_LARGE"},
	RateLimited:     {429, "RATE_LIMITED"},
	Unavailable:     {503, "SERVICE_UNAVAILABLE"},
	Unprocessable:   {422, "UNPROCESSABLE_ENTITY"},
}

// Status is the HTTP status for the kind.
func (k Kind) Status() int { return table[k].status }

// Code is the GraphQL extensions.code for the kind.
func (k Kind) Code() string { return table[k].code }

// Error is an error with a kind and a message that is safe to show clients.
type Error struct {
	Kind    Kind
	Message string
	Err     error // the cause, for logs only
}

func (e *Error) Error() string {
	if e.Err != nil {
		if e.Message == "" {
			return e.Err.Error()
		}
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an error of the given kind with a client-safe message.
func New(kind Kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an error of the given kind with a client-safe message and a
// cause that is only logged.
func Wrap(kind Kind, err error, message string) *Error {
	return &Error{Kind: kind, Message: message, Err: err}
}

// KindOf reports the kind of err: Internal unless err wraps an *Error.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// Is reports whether err is an *Error of the given kind.
func Is(err error, kind Kind) bool { return err != nil && KindOf(err) == kind }

// ClientMessage is the text a client may see for err: the message of an
// *Error (for Internal ones, the generic text the operation chose, such as
// "Failed to fetch data."; the cause is never shown), otherwise
// "internal error".
func ClientMessage(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Message != "" {
		return e.Message
	}
	return "internal error"
}
