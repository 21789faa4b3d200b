package web

import (
	"errors"
	"io/fs"
	"net/http"
	"strconv"
	"strings"

	"github.com/contacthub/contacthub/contact"
	"github.com/contacthub/contacthub/internal/desk"
	"github.com/contacthub/contacthub/internal/store"
	"github.com/contacthub/contacthub/routing"
	"github.com/gin-gonic/gin"
)

// deskHandlers serve what agents do: state, offers, conversations, wrap-up.
type deskHandlers struct {
	s *Server
	d *desk.Desk
}

// MountDesk adds the agent API (docs/PROTOCOL.md) to the server.
func MountDesk(s *Server, d *desk.Desk) {
	h := &deskHandlers{s: s, d: d}
	api := s.API
	api.POST("/contacts", h.createContact)
	api.GET("/contacts", h.listContacts)
	api.GET("/contacts/:id", h.getContact)
	api.POST("/contacts/:id/messages", h.reply)
	api.POST("/contacts/:id/notes", h.addNote)
	api.PUT("/contacts/:id/tags", h.setTags)
	api.POST("/contacts/:id/transfer", h.transfer)
	api.POST("/contacts/:id/end", h.end)
	api.POST("/contacts/:id/hangup", h.end)
	api.POST("/contacts/:id/wrapup", h.wrapUp)
	api.POST("/agent/state", h.setState)
	api.POST("/offers/:id/accept", h.acceptOffer)
	api.POST("/offers/:id/decline", h.declineOffer)
	api.GET("/queues", h.queues)
	api.GET("/agents", h.agents)
	api.GET("/canned-responses", h.cannedResponses)
	api.POST("/canned-responses", RequireRole(store.RoleSupervisor), h.addCannedResponse)
	api.GET("/customers/:id/timeline", h.timeline)
}

// MountUI serves the browser console: /agent, /login and /ui/<asset>.
func MountUI(s *Server, files fs.FS) {
	page := func(name string) gin.HandlerFunc {
		return func(c *gin.Context) {
			b, err := fs.ReadFile(files, name)
			if err != nil {
				jsonError(c, http.StatusNotFound, "not found")
				return
			}
			c.Header("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'")
			c.Header("Cache-Control", "no-cache")
			c.Data(http.StatusOK, "text/html; charset=utf-8", b)
		}
	}
	s.Public.GET("/", func(c *gin.Context) { c.Redirect(http.StatusFound, "/agent") })
	s.Public.GET("/agent", page("agent.html"))
	s.Public.GET("/login", page("login.html"))
	if _, err := fs.Stat(files, "supervisor.html"); err == nil {
		s.Public.GET("/supervisor", page("supervisor.html"))
	}
	s.Public.StaticFS("/ui", http.FS(files))
}

// deskError maps desk errors to HTTP.
func (h *deskHandlers) deskError(c *gin.Context, err error) {
	switch {
	case errors.Is(err, desk.ErrNotFound):
		jsonError(c, http.StatusNotFound, err.Error())
	case errors.Is(err, desk.ErrForbidden):
		jsonError(c, http.StatusForbidden, err.Error())
	case errors.Is(err, contact.ErrInvalid), errors.Is(err, desk.ErrInvalid):
		jsonError(c, http.StatusBadRequest, err.Error())
	case errors.Is(err, desk.ErrWrongState):
		jsonError(c, http.StatusConflict, err.Error())
	case errors.Is(err, contact.ErrUnavailable):
		c.Header("Retry-After", "5")
		jsonError(c, http.StatusServiceUnavailable, "temporarily unavailable, retry")
	default:
		h.s.deps.Log.Error("desk request failed", "path", c.FullPath(), "err", err)
		jsonError(c, http.StatusInternalServerError, "internal error")
	}
}

func me(c *gin.Context) contact.AgentID { return contact.AgentID(CurrentUser(c).ID) }

func seesAll(c *gin.Context) bool { return CurrentUser(c).Role.AtLeast(store.RoleSupervisor) }

func idParam(c *gin.Context) (int64, bool) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		jsonError(c, http.StatusBadRequest, "id must be a positive integer")
		return 0, false
	}
	return id, true
}

type createContactRequest struct {
	Channel    contact.Channel   `json:"channel"`
	From       contact.Identity  `json:"from"`
	To         string            `json:"to"`
	Subject    string            `json:"subject"`
	Queue      contact.QueueName `json:"queue"`
	Message    string            `json:"message"`
	ExternalID string            `json:"external_id"`
	Attributes map[string]string `json:"attributes"`
}

func (h *deskHandlers) createContact(c *gin.Context) {
	var req createContactRequest
	if !decodeJSON(c, &req) {
		return
	}
	if !req.Channel.Valid() {
		jsonError(c, http.StatusBadRequest, "channel must be one of voice, chat, email, sms")
		return
	}
	if len(req.Message) > desk.MaxMessageBytes || len(req.Subject) > 1000 || len(req.Attributes) > 50 {
		jsonError(c, http.StatusBadRequest, "message, subject or attributes too large")
		return
	}
	a := contact.Arrival{Channel: req.Channel, From: req.From, To: req.To, Subject: req.Subject, Queue: req.Queue,
		ExternalID: req.ExternalID, Attributes: req.Attributes}
	if req.Message != "" {
		a.Message = &contact.Message{Body: req.Message}
	}
	ct, err := h.d.Accept(c.Request.Context(), a)
	if err != nil {
		h.deskError(c, err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"contact": ct})
}

func (h *deskHandlers) listContacts(c *gin.Context) {
	f := store.ContactFilter{State: contact.State(c.Query("state")), Channel: contact.Channel(c.Query("channel")), Open: c.Query("open") == "true"}
	if v := c.Query("customer_id"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			jsonError(c, http.StatusBadRequest, "customer_id must be an integer")
			return
		}
		f.CustomerID = contact.CustomerID(id)
	}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			jsonError(c, http.StatusBadRequest, "limit must be 1 to 1000")
			return
		}
		f.Limit = n
	}
	if !seesAll(c) {
		f.AgentID = me(c)
	}
	list, err := h.s.deps.Store.ListContacts(c.Request.Context(), f)
	if err != nil {
		h.deskError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"contacts": list})
}

func (h *deskHandlers) getContact(c *gin.Context) {
	id, ok := idParam(c)
	if !ok {
		return
	}
	det, err := h.d.Contact(c.Request.Context(), me(c), seesAll(c), contact.ID(id))
	if err != nil {
		h.deskError(c, err)
		return
	}
	c.JSON(http.StatusOK, det)
}

type bodyRequest struct {
	Body string `json:"body"`
}

func (h *deskHandlers) reply(c *gin.Context) {
	id, ok := idParam(c)
	if !ok {
		return
	}
	var req bodyRequest
	if !decodeJSON(c, &req) {
		return
	}
	m, err := h.d.Reply(c.Request.Context(), me(c), contact.ID(id), req.Body)
	if err != nil {
		h.deskError(c, err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"message": m})
}

func (h *deskHandlers) addNote(c *gin.Context) {
	id, ok := idParam(c)
	if !ok {
		return
	}
	var req bodyRequest
	if !decodeJSON(c, &req) {
		return
	}
	n, err := h.d.AddNote(c.Request.Context(), me(c), seesAll(c), contact.ID(id), req.Body)
	if err != nil {
		h.deskError(c, err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"note": n})
}

type tagsRequest struct {
	Tags []string `json:"tags"`
}

func (h *deskHandlers) setTags(c *gin.Context) {
	id, ok := idParam(c)
	if !ok {
		return
	}
	var req tagsRequest
	if !decodeJSON(c, &req) {
		return
	}
	tags, err := h.d.SetTags(c.Request.Context(), me(c), seesAll(c), contact.ID(id), req.Tags)
	if err != nil {
		h.deskError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"tags": tags})
}

type transferRequest struct {
	Queue   contact.QueueName `json:"queue"`
	AgentID contact.AgentID   `json:"agent_id"`
	Note    string            `json:"note"`
}

func (h *deskHandlers) transfer(c *gin.Context) {
	id, ok := idParam(c)
	if !ok {
		return
	}
	var req transferRequest
	if !decodeJSON(c, &req) {
		return
	}
	if err := h.d.Transfer(c.Request.Context(), me(c), contact.ID(id), req.Queue, req.AgentID, req.Note); err != nil {
		h.deskError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (h *deskHandlers) end(c *gin.Context) {
	id, ok := idParam(c)
	if !ok {
		return
	}
	ct, err := h.d.End(c.Request.Context(), me(c), contact.ID(id))
	if err != nil {
		h.deskError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"contact": ct})
}

type wrapUpRequest struct {
	Disposition string `json:"disposition"`
	Notes       string `json:"notes"`
}

func (h *deskHandlers) wrapUp(c *gin.Context) {
	id, ok := idParam(c)
	if !ok {
		return
	}
	var req wrapUpRequest
	if !decodeJSON(c, &req) {
		return
	}
	ct, err := h.d.WrapUp(c.Request.Context(), me(c), contact.ID(id), req.Disposition, req.Notes)
	if err != nil {
		h.deskError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"contact": ct})
}

type stateRequest struct {
	State  string `json:"state"`
	Reason string `json:"reason"`
}

func (h *deskHandlers) setState(c *gin.Context) {
	var req stateRequest
	if !decodeJSON(c, &req) {
		return
	}
	v, err := h.d.SetState(c.Request.Context(), me(c), req.State, req.Reason)
	if err != nil {
		h.deskError(c, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

func (h *deskHandlers) acceptOffer(c *gin.Context) {
	id, ok := idParam(c)
	if !ok {
		return
	}
	ct, err := h.d.AcceptOffer(c.Request.Context(), me(c), routing.OfferID(id))
	if err != nil {
		h.deskError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"contact": ct})
}

func (h *deskHandlers) declineOffer(c *gin.Context) {
	id, ok := idParam(c)
	if !ok {
		return
	}
	if err := h.d.DeclineOffer(c.Request.Context(), me(c), routing.OfferID(id)); err != nil {
		h.deskError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (h *deskHandlers) queues(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"queues": h.d.Queues()}) }

func (h *deskHandlers) agents(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"agents": h.d.Agents()}) }

func (h *deskHandlers) cannedResponses(c *gin.Context) {
	list, err := h.s.deps.Store.CannedResponses(c.Request.Context())
	if err != nil {
		h.deskError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"canned_responses": list})
}

func (h *deskHandlers) addCannedResponse(c *gin.Context) {
	var req store.CannedResponse
	if !decodeJSON(c, &req) {
		return
	}
	if strings.TrimSpace(req.Title) == "" || strings.TrimSpace(req.Body) == "" || len(req.Body) > desk.MaxMessageBytes {
		jsonError(c, http.StatusBadRequest, "title and body are required")
		return
	}
	out, err := h.s.deps.Store.AddCannedResponse(c.Request.Context(), req, CurrentUser(c).ID)
	if err != nil {
		h.deskError(c, err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"canned_response": out})
}

// TimelineItem is one line of a customer's history.
type TimelineItem struct {
	Kind    string `json:"kind"`
	At      any    `json:"at"`
	Channel string `json:"channel,omitempty"`
	Summary string `json:"summary"`
	ID      int64  `json:"id"`
}

func (h *deskHandlers) timeline(c *gin.Context) {
	id, ok := idParam(c)
	if !ok {
		return
	}
	recent, err := h.s.deps.Store.RecentContacts(c.Request.Context(), contact.CustomerID(id), 50)
	if err != nil {
		h.deskError(c, err)
		return
	}
	items := []TimelineItem{}
	for _, r := range recent {
		sum := string(r.State)
		if r.Subject != "" {
			sum = r.Subject + " — " + sum
		}
		if r.Disposition != "" {
			sum += " (" + r.Disposition + ")"
		}
		if r.AgentName != "" {
			sum += " · " + r.AgentName
		}
		items = append(items, TimelineItem{Kind: "contact", At: r.CreatedAt, Channel: string(r.Channel), Summary: sum, ID: int64(r.ID)})
	}
	c.JSON(http.StatusOK, gin.H{"items": items})
}
