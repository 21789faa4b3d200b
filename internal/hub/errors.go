package hub

import "errors"

// Sentinel errors.
var (
	// ErrNotConnected means the agent has no open connection (it may be
	// inside its reconnect grace period: the next hello carries the state).
	ErrNotConnected = errors.New("hub: agent not connected")
	// ErrChannelFull means a connection's send buffer was full: the client
	// could not keep up, so its connection was closed. It reconnects and
	// gets a fresh hello.
	ErrChannelFull = errors.New("hub: send channel full, connection dropped")
	// ErrClosed means the hub or the connection is shut down.
	ErrClosed = errors.New("hub: closed")
)
