package cluster

import "errors"

// ErrLost means the leader lost its lock connection: another node may now
// be leader, so this one must stop routing.
var ErrLost = errors.New("cluster: leadership lost")
