package cluster

import (
	"encoding/json"
	"net/http"
)

// Gate wraps the node's HTTP handler. Until this node is the leader and
// serving, it answers every request except /healthz and /metrics with 503
// and names the leader, so a standby never touches the desk: there is one
// writer. /readyz reports the role: 200 {"role":"leader"} on the serving
// leader, 503 {"role":"standby"} otherwise, so a load balancer's health
// check sends traffic to the leader only.
func (l *Leader) Gate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/healthz", "/metrics":
			next.ServeHTTP(w, r)
			return
		case "/readyz":
			l.ready(w)
			return
		}
		if l.Serving() {
			next.ServeHTTP(w, r)
			return
		}
		msg := "standby node; leader unknown (election in progress)"
		leader := l.Current()
		if l.IsLeader() {
			msg = "leader is starting (restoring the desk); retry shortly"
		} else if leader != "" {
			msg = "standby node; leader is " + leader
			w.Header().Set("X-ContactHub-Leader", leader)
		}
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"error": msg, "role": l.role(), "leader": leader})
	})
}

func (l *Leader) role() string {
	if l.IsLeader() {
		return "leader"
	}
	return "standby"
}

func (l *Leader) ready(w http.ResponseWriter) {
	body := map[string]any{"role": l.role(), "leader": l.Current()}
	switch {
	case l.Serving():
		body["status"] = "ready"
		writeJSON(w, http.StatusOK, body)
	case l.IsLeader():
		body["status"] = "starting"
		writeJSON(w, http.StatusServiceUnavailable, body)
	default:
		body["status"] = "standby"
		writeJSON(w, http.StatusServiceUnavailable, body)
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
