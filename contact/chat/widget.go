package chat

import (
	"bytes"
	"embed"
	"html/template"
	"net/http"
	"strings"
)

//go:embed widget/widget.js widget/demo.html
var assets embed.FS

var demoPage = template.Must(template.ParseFS(assets, "widget/demo.html"))

type demoText struct{ Title, Shop, Product, Price, Text, Buy string }

var demoTexts = map[string]demoText{
	"en": {"Jade Mountain Oolong — Aurora Tea Co.", "Aurora Tea Co.", "Jade Mountain Oolong, 100 g",
		"$24.00", "A lightly roasted high-mountain oolong with notes of orchid and honey. Questions about brewing or delivery? Chat with us.", "Add to cart"},
	"zh-CN": {"玉山乌龙 — 晨曦茶庄", "晨曦茶庄", "玉山乌龙 100 克", "¥168.00",
		"轻焙高山乌龙，带有兰花与蜂蜜的香气。关于冲泡或配送有任何问题？欢迎在线咨询。", "加入购物车"},
}

// Widget is GET /widget.js: the embeddable widget, with the pre-chat
// requirements filled in. Any page may load it.
func (a *Adapter) Widget() http.Handler {
	src, err := assets.ReadFile("widget/widget.js")
	if err != nil {
		panic(err)
	}
	cfg := mustJSON(map[string]any{"require_email": a.cfg.RequireEmail, "require_phone": a.cfg.RequirePhone,
		"max_message_bytes": a.cfg.MaxMessageBytes})
	js := bytes.Replace(src, []byte("/*CONFIG*/ {}"), cfg, 1)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "use GET", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Header().Set("Cache-Control", "public, max-age=300")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cross-Origin-Resource-Policy", "cross-origin")
		_, _ = w.Write(js)
	})
}

// Demo is GET /chat-demo: a plain product page with the widget's script
// tag; ?lang=zh-CN switches the page language (and so the widget's).
func (a *Adapter) Demo() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lang := "en"
		if strings.HasPrefix(strings.ToLower(r.URL.Query().Get("lang")), "zh") {
			lang = "zh-CN"
		}
		var b bytes.Buffer
		if err := demoPage.Execute(&b, map[string]any{"Lang": lang, "T": demoTexts[lang], "Queue": string(a.cfg.DefaultQueue)}); err != nil {
			http.Error(w, "demo page", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(b.Bytes())
	})
}

// Handler serves every endpoint of the channel on its own paths:
// /widget.js, /chat-demo, /chat/session and /ws/chat.
func (a *Adapter) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/widget.js", a.Widget())
	mux.Handle("/chat-demo", a.Demo())
	mux.Handle("/chat/session", a.Session())
	mux.Handle("/ws/chat", a.Socket())
	return mux
}
