// Package agentui is the agents' browser console: plain HTML, CSS and ES
// modules with no build step, embedded in the binary.
//
// Mount Files so that /agent serves agent.html, /login serves login.html and
// /ui/<name> serves every other file (agent.js, agent.css, i18n.js, …). The
// pages reference their assets as /ui/<name>. The REST and websocket
// contract the console speaks is docs/PROTOCOL.md.
package agentui

import (
	"embed"
	"io/fs"
)

//go:embed static
var static embed.FS

// Files is the console's static files, rooted at the static directory:
// agent.html, login.html, agent.css, agent.js, login.js, api.js, i18n.js.
var Files fs.FS = mustSub(static, "static")

func mustSub(f fs.FS, dir string) fs.FS {
	s, err := fs.Sub(f, dir)
	if err != nil {
		panic(err)
	}
	return s
}
